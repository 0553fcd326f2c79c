"""URLs of sharing."""

from django.urls import path

from csirtnet.sharing import views

app_name = "sharing"
urlpatterns = [path("search/", views.search, name="search")]
