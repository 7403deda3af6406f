"""`gongzhi open311-key NAME [--organization CODE]`: issue an Open311 API key.

The key is printed alone on the last line of the output, so scripts can take it with `tail -n 1`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from gongzhi.core.errors import ApplicationError
from gongzhi.open311.services import open311_key_issue
from gongzhi.territory.models import Organization


class Command(BaseCommand):
    help = "Issue an Open311 API key and print it (shown only once) on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="who the key is for, e.g. the client application")
        parser.add_argument("--organization", default="", help="code of the organization the key belongs to")

    def handle(self, *args: Any, **options: Any) -> None:
        organization_id = None
        if options["organization"]:
            organization = Organization.objects.filter(code=options["organization"]).first()
            if organization is None:
                raise CommandError(
                    _("No organization has the code %(code)s.") % {"code": options["organization"]}
                )
            organization_id = organization.pk
        try:
            issued = open311_key_issue(actor=None, name=options["name"], organization_id=organization_id)
        except ApplicationError as error:
            raise CommandError(str(error.message)) from error
        self.stdout.write(
            _("Open311 API key “%(name)s” (prefix %(prefix)s) issued. It is shown only once:")
            % {"name": issued.key.name, "prefix": issued.key.prefix}
        )
        self.stdout.write(issued.secret)
