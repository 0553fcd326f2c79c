"""URLs of the report pages, mounted under /reports/."""

from django.urls import path

from csirtnet.reports import views

app_name = "reports"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("events/<uuid:event_uuid>/", views.event_detail, name="event_detail"),
    path("reports/<uuid:report_uuid>/", views.report_detail, name="report_detail"),
    path("overview/", views.overview, name="overview"),
]
