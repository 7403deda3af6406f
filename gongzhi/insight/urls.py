from django.urls import path

from gongzhi.insight import views

app_name = "insight"

urlpatterns = [
    path("", views.insight_home, name="home"),
    path("nodes/<int:node_id>/", views.node_dashboard, name="node_dashboard"),
    path(
        "departments/<int:organization_id>/",
        views.department_dashboard,
        name="department_dashboard",
    ),
]

# The monthly reports and the ticket export (views_report.py).
from gongzhi.insight import views_report  # noqa: E402

urlpatterns += [
    path("reports/", views_report.report_list, name="reports"),
    path("reports/<int:report_id>/", views_report.report_detail, name="report"),
    path("reports/<int:report_id>/<str:kind>/", views_report.report_download, name="report_download"),
    path("export/tickets.xlsx", views_report.tickets_export, name="tickets_export"),
]
