from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DoorplatesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "gongzhi.doorplates"
    verbose_name = _("Digital doorplates")
