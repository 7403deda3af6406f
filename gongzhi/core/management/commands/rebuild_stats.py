"""`gongzhi manage rebuild_stats`: recompute every node's roll-up counts from the raw tables."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from gongzhi.territory.services import stats_rebuild


class Command(BaseCommand):
    help = "Recompute the maintained counts (households, residents, party members, building leaders)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        nodes = stats_rebuild()
        self.stdout.write(
            _("Rebuilt the counts of %(nodes)d nodes in %(seconds).2f s.")
            % {"nodes": nodes, "seconds": time.perf_counter() - started}
        )
