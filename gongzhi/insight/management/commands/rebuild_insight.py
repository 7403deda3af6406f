"""`gongzhi manage rebuild_insight`: recompute the three rates' roll-ups from the ticket events."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from gongzhi.insight.services import rollups_rebuild


class Command(BaseCommand):
    help = "Recompute the ticket roll-ups (the three rates) from the ticket events."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        result = rollups_rebuild()
        self.stdout.write(
            _("Folded %(events)d ticket events into the roll-ups in %(seconds).2f s.")
            % {"events": result.events, "seconds": time.perf_counter() - started}
        )
