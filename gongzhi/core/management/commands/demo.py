"""`gongzhi demo`: build the deterministic demo district 兖州区 on an empty database."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from gongzhi.core.demo.build import DemoRefused, DemoSummary, demo_build
from gongzhi.insight.services import rollups_rebuild


class Command(BaseCommand):
    help = "Build the demo district 兖州区 (empty database only; needs GONGZHI_DEBUG=1 or GONGZHI_DEMO=1)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Fraction (0–1] of the 6,000 households and 15,000 residents to build; places stay whole.",
        )
        parser.add_argument(
            "--tickets",
            type=int,
            default=None,
            help="Tickets of the past year to build (default 100,000 × scale).",
        )

    def handle(self, *args: Any, scale: float, tickets: int | None, **options: Any) -> None:
        if not 0 < scale <= 1:
            raise CommandError(_("--scale must be greater than 0 and at most 1."))
        if tickets is not None and not 0 <= tickets <= 1_000_000:
            raise CommandError(_("--tickets must be between 0 and 1,000,000."))
        try:
            summary = demo_build(scale=scale, tickets=tickets)
        except DemoRefused as exc:
            raise CommandError(str(exc.message)) from exc
        self._report(summary)
        # The year of tickets was written in bulk: fold its events into the dashboards' roll-ups
        # now (a minute's work here) rather than leave the first minutes of the worker to it, with
        # empty dashboards meanwhile; and give the query planner statistics of the new tables.
        started = time.perf_counter()
        folded = rollups_rebuild()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(
            _("Folded %(events)d ticket events into the dashboards' roll-ups in %(seconds).1f s.")
            % {"events": folded.events, "seconds": time.perf_counter() - started}
        )

    def _report(self, summary: DemoSummary) -> None:
        counts = summary.counts
        self.stdout.write(
            _(
                "Built the demo district 兖州区 in %(seconds).1f s: %(subdistricts)d subdistricts, "
                "%(communities)d communities, %(grids)d grids, %(compounds)d compounds, "
                "%(buildings)d buildings, %(entrances)d entrances, %(households)d households, "
                "%(residents)d residents, %(party_members)d party members, "
                "%(building_leaders)d building leaders, %(organizations)d organizations, "
                "%(tickets)d tickets of the past year."
            )
            % {
                "seconds": summary.seconds,
                "subdistricts": counts.subdistricts,
                "communities": counts.communities,
                "grids": counts.grids,
                "compounds": counts.compounds,
                "buildings": counts.buildings,
                "entrances": counts.entrances,
                "households": counts.households,
                "residents": counts.residents,
                "party_members": counts.party_members,
                "building_leaders": counts.building_leaders,
                "organizations": summary.organizations,
                "tickets": summary.tickets,
            }
        )
