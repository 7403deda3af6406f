from django.urls import path

from gongzhi.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.new, name="new"),
    path("", views.new, name="index"),  # the navigation's name for the same page
    path("templates/<str:kind>.xlsx", views.template, name="template"),
    path("export/", views.export, name="export"),
    path("<int:job_id>/", views.detail, name="detail"),
]
