from django.urls import path

from gongzhi.surveys import views, views_resident

app_name = "surveys"

urlpatterns = [
    # Staff pages.
    path("surveys/", views.survey_list_view, name="list"),
    path("surveys/new/", views.survey_new, name="new"),
    path("surveys/<int:survey_id>/", views.survey_detail, name="detail"),
    path("surveys/<int:survey_id>/results/", views.survey_results_partial, name="results_partial"),
    path("surveys/<int:survey_id>/open/", views.survey_open_view, name="open"),
    path("surveys/<int:survey_id>/close/", views.survey_close_view, name="close"),
    path("surveys/<int:survey_id>/publish/", views.survey_publish_view, name="publish"),
    path("surveys/<int:survey_id>/export.xlsx", views.survey_export, name="export"),
    path("surveys/<int:survey_id>/paper/", views.survey_paper, name="paper"),
    path("surveys/<int:survey_id>/households/", views.survey_households, name="households"),
    path("surveys/<int:survey_id>/people/", views.survey_people, name="people"),
    path("surveys/<int:survey_id>/qr.svg", views.survey_qr, name="qr"),
    # Residents' pages: no account, a verified phone.
    path("s/<int:survey_id>/", views_resident.answer, name="answer"),
    path("s/<int:survey_id>/thanks/", views_resident.thanks, name="thanks"),
    path("s/<int:survey_id>/results/", views_resident.results, name="results"),
    path("s/<int:survey_id>/phone/send/", views_resident.phone_send, name="phone_send"),
    path("s/<int:survey_id>/phone/verify/", views_resident.phone_verify, name="phone_verify"),
    path("s/<int:survey_id>/phone/change/", views_resident.phone_change, name="phone_change"),
]
