from django.urls import path

from gongzhi.tickets import views, views_resident

app_name = "tickets"

urlpatterns = [
    # Staff pages (fixed paths before the ticket number).
    path("tickets/", views.ticket_list_view, name="list"),
    path("tickets/new/", views.ticket_new, name="new"),
    path("tickets/new/places/", views.intake_places, name="intake_places"),
    path("tickets/new/questions/", views.intake_questions, name="intake_questions"),
    path("tickets/new/similar/", views.intake_similar, name="intake_similar"),
    path("tickets/map/", views.ticket_map, name="map"),
    path("tickets/summons/", views.summons_list, name="summonses"),
    path(
        "tickets/summons/<int:summons_id>/report-in/", views.summons_report_in_view, name="summons_report_in"
    ),
    path("tickets/summons/<int:summons_id>/act/", views.summons_act_view, name="summons_act"),
    path("tickets/<str:number>/", views.ticket_detail, name="detail"),
    path("tickets/<str:number>/photos/<int:photo_id>/", views.ticket_photo, name="photo"),
    path(
        "tickets/<str:number>/whistles/<int:whistle_id>/confirm/",
        views.whistle_confirm_view,
        name="whistle_confirm",
    ),
    path("tickets/<str:number>/<slug:action>/", views.ticket_act, name="act"),
    # Resident pages (views_resident): a ticket's follow link and the doorplate, no account needed.
    path("t/<str:token>/", views_resident.ticket_follow, name="follow"),
    path("t/<str:token>/photos/<int:photo_id>/", views_resident.ticket_photo, name="follow_photo"),
    path("t/<str:token>/phone/send/", views_resident.follow_phone_send, name="follow_phone_send"),
    path("t/<str:token>/phone/verify/", views_resident.follow_phone_verify, name="follow_phone_verify"),
    path("d/<str:token>/", views_resident.doorplate_home, name="doorplate"),
    path("d/<str:token>/new/<slug:kind>/", views_resident.ticket_new, name="resident_new"),
    path("d/<str:token>/new/<slug:kind>/suggest/", views_resident.ticket_suggest, name="resident_suggest"),
    path(
        "d/<str:token>/new/<slug:kind>/questions/", views_resident.ticket_questions, name="resident_questions"
    ),
    path("d/<str:token>/mine/", views_resident.lookup, name="lookup"),
    path("d/<str:token>/phone/send/", views_resident.phone_send, name="phone_send"),
    path("d/<str:token>/phone/verify/", views_resident.phone_verify, name="phone_verify"),
    path("d/<str:token>/phone/change/", views_resident.phone_change, name="phone_change"),
]
