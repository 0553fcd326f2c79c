"""URLs of sharing."""

from django.urls import path

from csirtnet.sharing import views

app_name = "sharing"
urlpatterns = [
    path("search/", views.search, name="search"),
    path("indicators/", views.indicators, name="indicators"),
    path("objects/<uuid:uuid>/", views.stix_object, name="object"),
    path("import/", views.import_file, name="import"),
]
