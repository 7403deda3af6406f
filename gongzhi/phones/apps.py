from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PhonesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "gongzhi.phones"
    verbose_name = _("Phone verification")
