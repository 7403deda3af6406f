from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VotesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "gongzhi.votes"
    verbose_name = _("Owners' votes")
