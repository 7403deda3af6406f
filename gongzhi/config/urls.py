from django.contrib import admin
from django.urls import include, path

from gongzhi.config.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("gongzhi.accounts.urls")),
    path("audit/", include("gongzhi.audit.urls")),
    path("imports/", include("gongzhi.imports.urls")),
    path("notifications/", include("gongzhi.notifications.urls")),
    path("people/", include("gongzhi.people.urls")),
    path("doorplates/", include("gongzhi.doorplates.urls")),
    path("open311/v2/", include("gongzhi.open311.urls")),
    path("", include("gongzhi.tickets.urls")),
    path("", include("gongzhi.meetings.urls")),
    path("", include("gongzhi.votes.urls")),
    path("", include("gongzhi.surveys.urls")),
    path("insight/", include("gongzhi.insight.urls")),
    path("board/", include("gongzhi.insight.urls_board")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("gongzhi.territory.urls")),
]
