"""URLs of the TAXII 2.1 server (OASIS TAXII 2.1, sections 4 and 5), under /taxii2/."""

from django.urls import path, re_path

from csirtnet.taxii import views

app_name = "taxii"

_COLLECTION = "<str:root>/collections/<str:collection_id>/"
urlpatterns = [
    path("", views.discovery, name="discovery"),
    path("<str:root>/", views.api_root, name="api_root"),
    # taxii2-client polls the status URL without its trailing slash
    re_path(r"^(?P<root>[^/]+)/status/(?P<status_id>[^/]+)/?$", views.status, name="status"),
    path("<str:root>/collections/", views.collection_list, name="collections"),
    path(_COLLECTION, views.collection, name="collection"),
    path(_COLLECTION + "manifest/", views.manifest, name="manifest"),
    path(_COLLECTION + "objects/", views.objects, name="objects"),
    path(_COLLECTION + "objects/<str:object_id>/", views.object_detail, name="object"),
    path(
        _COLLECTION + "objects/<str:object_id>/versions/",
        views.object_versions,
        name="object_versions",
    ),
]
