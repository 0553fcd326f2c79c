"""URLs of the assistance pages, mounted under /assistance/."""

from django.urls import path

from csirtnet.assistance import views

app_name = "assistance"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("outbox/", views.outbox, name="outbox"),
    path("all/", views.all_requests, name="all"),
    path("new/", views.create, name="create"),
    path("time-zone/", views.set_time_zone, name="time_zone"),
    path("<uuid:request_uuid>/", views.detail, name="detail"),
    path("<uuid:request_uuid>/<slug:action>/", views.act, name="act"),
]
