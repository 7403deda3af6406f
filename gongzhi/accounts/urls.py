from django.urls import path

from gongzhi.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("roles/", views.role_list, name="roles"),
    path("roles/new/", views.role_new, name="role_new"),
    path("roles/<int:assignment_id>/end/", views.role_end, name="role_end"),
]
