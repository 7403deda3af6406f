from django.urls import path

from gongzhi.people import views

app_name = "people"
urlpatterns = [
    path("", views.search, name="search"),
    path("find-by-id-number/", views.find_by_id_number, name="find_by_id_number"),
    path("<int:person_id>/", views.detail, name="detail"),
    path("<int:person_id>/reveal/", views.reveal, name="reveal"),
]
