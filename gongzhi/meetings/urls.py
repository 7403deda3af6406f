from django.urls import path

from gongzhi.meetings import views

app_name = "meetings"

urlpatterns = [
    # Staff pages (fixed paths before the meeting id).
    path("meetings/", views.meeting_list_view, name="list"),
    path("meetings/new/", views.meeting_new, name="new"),
    path("meetings/new/tickets/", views.ticket_search, name="ticket_search"),
    path("meetings/people/", views.people_search, name="people_search"),
    path("meetings/figures/", views.figures_view, name="figures"),
    path("meetings/calendar/", views.my_calendar, name="my_calendar"),
    path("meetings/projects/", views.project_list_view, name="projects"),
    path("meetings/projects/new/", views.project_new, name="project_new"),
    path("meetings/projects/<int:project_id>/", views.project_detail, name="project"),
    path("meetings/projects/<int:project_id>/<slug:action>/", views.project_act, name="project_act"),
    path("meetings/<int:meeting_id>/", views.meeting_detail, name="detail"),
    path("meetings/<int:meeting_id>/new-code/", views.meeting_rotate, name="rotate"),
    path("meetings/<int:meeting_id>/sign-in/", views.meeting_staff_sign_in, name="staff_sign_in"),
    path("meetings/<int:meeting_id>/record/", views.meeting_record_view, name="record"),
    path("meetings/<int:meeting_id>/minutes/", views.meeting_minutes_view, name="minutes"),
    path("meetings/<int:meeting_id>/cancel/", views.meeting_cancel_view, name="cancel"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar"),
    # Resident and public pages: no login.
    path("m/<str:token>/", views.resident_sign_in, name="signin"),
    path("projects/<str:code>/", views.public_project_list, name="public_projects"),
    path("projects/<str:code>/photos/<int:photo_id>/", views.public_project_photo, name="public_photo"),
    path("projects/<str:code>/<int:project_id>/rate/", views.public_project_rate, name="public_rate"),
]
