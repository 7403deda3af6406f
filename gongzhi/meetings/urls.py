from django.urls import path

from gongzhi.meetings import views

app_name = "meetings"

urlpatterns = [
    path("meetings/<int:meeting_id>/", views.meeting_detail, name="detail"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar"),
]
