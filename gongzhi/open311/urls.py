from django.urls import path, re_path, register_converter

from gongzhi.open311 import views


class FormatConverter:
    regex = "xml|json"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FormatConverter, "open311_format")

app_name = "open311"

urlpatterns = [
    path("discovery.<open311_format:fmt>", views.discovery, name="discovery"),
    path("services.<open311_format:fmt>", views.services, name="services"),
    path("services/<slug:code>.<open311_format:fmt>", views.service_definition, name="service"),
    path("requests.<open311_format:fmt>", views.requests, name="requests"),
    path("requests/<slug:number>.<open311_format:fmt>", views.request_detail, name="request"),
    path("tokens/<slug:token>.<open311_format:fmt>", views.token_detail, name="token"),
    re_path(r"^(?P<path>.*)$", views.not_found),
]
