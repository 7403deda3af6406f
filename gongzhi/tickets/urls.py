from django.urls import path

from gongzhi.tickets import views

app_name = "tickets"

urlpatterns = [
    path("tickets/<str:number>/", views.ticket_detail, name="detail"),
    path("t/<str:token>/", views.ticket_follow, name="follow"),
    path("d/<str:token>/", views.doorplate_home, name="doorplate"),
]
