from django.urls import path

from gongzhi.territory import views

app_name = "territory"
urlpatterns = [
    path("", views.home, name="home"),
    path("nodes/<int:node_id>/", views.node_detail, name="node"),
]
