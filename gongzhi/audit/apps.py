from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "gongzhi.audit"
    label = "audit"
