from django.urls import path

from gongzhi.votes import views, views_resident

app_name = "votes"

urlpatterns = [
    # Staff pages.
    path("votes/", views.vote_list_view, name="list"),
    path("votes/new/", views.vote_new, name="new"),
    path("votes/<int:vote_id>/", views.vote_detail, name="detail"),
    path("votes/<int:vote_id>/open/", views.vote_open_view, name="open"),
    path("votes/<int:vote_id>/close/", views.vote_close_view, name="close"),
    path("votes/<int:vote_id>/tally/", views.vote_tally_view, name="tally"),
    path("votes/<int:vote_id>/ballots/new/", views.ballot_new, name="ballot_new"),
    path("votes/<int:vote_id>/owners/", views.vote_owners, name="owners"),
    path(
        "votes/<int:vote_id>/ballots/<int:ballot_id>/document/", views.ballot_document, name="ballot_document"
    ),
    path("votes/<int:vote_id>/qr.svg", views.vote_qr, name="qr"),
    # The owners' pages: no account, a verified phone.
    path("v/<int:vote_id>/", views_resident.ballot, name="ballot"),
    path("v/<int:vote_id>/receipt/", views_resident.receipt, name="receipt"),
    path("v/<int:vote_id>/verify/", views_resident.verify, name="verify"),
    path("v/<int:vote_id>/result/", views_resident.result, name="result"),
    path("v/<int:vote_id>/phone/send/", views_resident.phone_send, name="phone_send"),
    path("v/<int:vote_id>/phone/verify/", views_resident.phone_verify, name="phone_verify"),
    path("v/<int:vote_id>/phone/change/", views_resident.phone_change, name="phone_change"),
]
