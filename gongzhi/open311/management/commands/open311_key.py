"""`gongzhi open311-key NAME --organization CODE [--posts-per-minute N]`: issue an Open311 API key.

Every key belongs to the organization that runs its client (by its code, as in the back office).
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
    help = "Issue an Open311 API key for an organization and print it (shown only once) on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="who the key is for, e.g. the client application")
        parser.add_argument(
            "--organization",
            required=True,
            metavar="CODE",
            help="code of the organization that runs the client and answers for what it posts",
        )
        parser.add_argument(
            "--posts-per-minute",
            type=int,
            default=None,
            metavar="N",
            help="this key's own rate limit (default: the platform's, 60 a minute unless configured)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["organization"].strip()
        organization = Organization.objects.filter(code=code).first()
        if organization is None:
            raise CommandError(
                _("No organization has the code %(code)s. Create it in the back office first.")
                % {"code": code}
            )
        try:
            issued = open311_key_issue(
                actor=None,
                name=options["name"],
                organization_id=organization.pk,
                posts_per_minute=options["posts_per_minute"],
            )
        except ApplicationError as error:
            raise CommandError(str(error.message)) from error
        self.stdout.write(
            _(
                "Open311 API key “%(name)s” (prefix %(prefix)s) issued for %(organization)s. It is shown only once:"
            )
            % {"name": issued.key.name, "prefix": issued.key.prefix, "organization": organization.name}
        )
        self.stdout.write(issued.secret)
