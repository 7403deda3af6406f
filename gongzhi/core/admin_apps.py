"""The Django admin's app config: the same admin, with Gongzhi's site (its login goes through
the staff login's lockout, rate limit and audit). Listed in INSTALLED_APPS instead of
"django.contrib.admin"; a module of its own so that no other AppConfig sits beside it."""

from django.contrib.admin.apps import AdminConfig


class GongzhiAdminConfig(AdminConfig):
    default_site = "gongzhi.accounts.admin_site.GongzhiAdminSite"
