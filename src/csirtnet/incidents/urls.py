"""URLs of the incident pages, mounted under /incidents/."""

from django.urls import path

from csirtnet.incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("export.csv", views.export, name="export"),
    path("new/", views.create, name="create"),
    path("escalate/", views.escalate, name="escalate"),
    path("<uuid:incident_uuid>/", views.detail, name="detail"),
    path("<uuid:incident_uuid>/edit/", views.edit, name="edit"),
    path("<uuid:incident_uuid>/comment/", views.comment, name="comment"),
    path("<uuid:incident_uuid>/status/", views.change_status, name="status"),
    path("<uuid:incident_uuid>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<uuid:incident_uuid>/observables/", views.add_observables, name="observables"),
    path(
        "<uuid:incident_uuid>/attachments/",
        views.upload_attachment,
        name="attachment_upload",
    ),
    path(
        "<uuid:incident_uuid>/attachments/<uuid:attachment_uuid>/",
        views.attachment,
        name="attachment",
    ),
]
