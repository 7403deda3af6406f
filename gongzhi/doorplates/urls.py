from django.urls import path

from gongzhi.doorplates import views

app_name = "doorplates"
urlpatterns = [
    path("", views.jobs, name="jobs"),
    path("print/<int:node_id>/", views.print_plates, name="print"),
    path("jobs/<int:job_id>/", views.job, name="job"),
    path("jobs/<int:job_id>/download/", views.download, name="download"),
]
