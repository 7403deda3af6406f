from django.urls import path

from gongzhi.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:notification_id>/read/", views.mark_read, name="read"),
    path("read-all/", views.mark_all_read, name="read_all"),
    path("failures/", views.failures, name="failures"),
    path("failures/retry/", views.retry, name="retry"),
]
