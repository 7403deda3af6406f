"""`gongzhi manage demo_accounts`: print the demo logins. Reads only; never creates them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from gongzhi.core.demo.accounts import demo_account_rows, demo_accounts_table


class Command(BaseCommand):
    help = "Print the demo accounts (username, role, where, password) present in the database."

    def handle(self, *args: Any, **options: Any) -> None:
        rows = demo_account_rows()
        if not rows:
            self.stdout.write(_("No demo accounts in this database."))
            return
        self.stdout.write(_("Demo accounts (demo data only):"))
        self.stdout.write(demo_accounts_table(rows))
