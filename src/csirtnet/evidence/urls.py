"""URLs of the evidence pages, mounted under /evidence/."""

from django.urls import path

from csirtnet.evidence import views

app_name = "evidence"

urlpatterns = [
    path("<uuid:evidence_uuid>/", views.detail, name="detail"),
    path("<uuid:evidence_uuid>/download/", views.download, name="download"),
    path("<uuid:evidence_uuid>/transfer/", views.transfer, name="transfer"),
    path("<uuid:evidence_uuid>/accept/", views.accept, name="accept"),
    path("<uuid:evidence_uuid>/examine/", views.examine, name="examine"),
    path("<uuid:evidence_uuid>/release/", views.release, name="release"),
    path(
        "<str:kind>/<uuid:parent_uuid>/upload/",
        views.upload,
        name="upload",
    ),
]
