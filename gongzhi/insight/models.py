"""Roll-ups of the ticket events (see `definitions.py` for what is counted and how).

`TicketFacts` holds each ticket's counted facts, once; `DailyRollup` sums them by submission day,
grid and the ticket's dimensions; `DepartmentRollup` counts summonses by department. The worker
folds events into them in id order from the high-water mark in `RollupMark` (one row), in the same
transaction as the counters, so running it again changes nothing.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.tickets.models import Channel, TicketKind
from gongzhi.tickets.workflow import Level


class RollupMark(models.Model):
    """The id of the last ticket event folded into the roll-ups. Exactly one row, id 1."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("roll-up high-water mark")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="rollup_mark_single_row")]

    def __str__(self) -> str:
        return str(self.last_event_id)


class Counts(models.Model):
    received = models.PositiveIntegerField(default=0)
    responded = models.PositiveIntegerField(default=0)
    responded_on_time = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    resolved_on_time = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)  # 满意 + 基本满意
    reopened = models.PositiveIntegerField(default=0)
    escalated = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class TicketFacts(Counts):
    """One ticket's counted facts (each count 0 or 1) and the roll-up row they are counted in."""

    ticket = models.OneToOneField(
        "tickets.Ticket", primary_key=True, on_delete=models.CASCADE, related_name="insight_facts"
    )
    day = models.DateField()  # the local date of submission
    grid = models.ForeignKey("territory.Node", on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey("tickets.Category", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    kind = models.CharField(max_length=16, choices=TicketKind.choices)
    level = models.PositiveSmallIntegerField(choices=Level.choices)  # the highest level that owned it
    # Ids of the whistle and report-in events already added to the department roll-up: a replay of
    # the events (the mark set back) adds nothing twice. A ticket has few of them.
    department_events = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("ticket facts")
        verbose_name_plural = _("ticket facts")

    def __str__(self) -> str:
        return str(self.ticket_id)


class DailyRollup(Counts):
    """The facts of the tickets submitted on one day in one grid, by category, channel, kind and level."""

    day = models.DateField()
    grid = models.ForeignKey("territory.Node", on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey("tickets.Category", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    kind = models.CharField(max_length=16, choices=TicketKind.choices)
    level = models.PositiveSmallIntegerField(choices=Level.choices)

    class Meta:
        verbose_name = _("daily ticket roll-up")
        verbose_name_plural = _("daily ticket roll-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "grid", "category", "channel", "kind", "level"], name="daily_rollup_key"
            )
        ]
        indexes = [
            # rates_for / series / children_ranking: the grids of a subtree over a date range.
            models.Index(fields=["grid", "day"], name="daily_rollup_grid_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.grid_id}"


class DepartmentRollup(models.Model):
    """Summonses (吹哨) of one department on the tickets submitted on one day in one grid."""

    day = models.DateField()
    grid = models.ForeignKey("territory.Node", on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey("territory.Organization", on_delete=models.CASCADE, related_name="+")
    summoned = models.PositiveIntegerField(default=0)
    reported_in = models.PositiveIntegerField(default=0)
    reported_late = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("department roll-up")
        verbose_name_plural = _("department roll-ups")
        constraints = [
            models.UniqueConstraint(fields=["day", "grid", "department"], name="department_rollup_key")
        ]
        indexes = [
            # A department's dashboard: its rows over a date range.
            models.Index(fields=["department", "day"], name="department_rollup_dept_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.department_id}"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")  # created, waiting for the worker
    RUNNING = "running", _("Running")  # claimed by the worker
    SUCCEEDED = "succeeded", _("Ready")  # both files saved
    FAILED = "failed", _("Failed")  # `error` says why


FINISHED_REPORT_STATUSES = frozenset({ReportStatus.SUCCEEDED, ReportStatus.FAILED})


class MonthlyReport(models.Model):
    """The monthly report of a node (PDF and xlsx), run by the worker and kept for downloading again."""

    node = models.ForeignKey(
        "territory.Node", verbose_name=_("place"), on_delete=models.CASCADE, related_name="monthly_reports"
    )
    month = models.DateField(_("month"))  # the first day of the month reported on
    requested_by = models.ForeignKey(
        "accounts.User", verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    language = models.CharField(max_length=16, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)  # percent
    pdf_file = models.FileField(_("PDF file"), upload_to="insight/reports/%Y/%m/", max_length=200, blank=True)
    xlsx_file = models.FileField(
        _("Excel file"), upload_to="insight/reports/%Y/%m/", max_length=200, blank=True
    )
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="monthly_report_month_first_day"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="monthly_report_progress_percent"),
        ]
        indexes = [
            # The reports page: a node's reports, newest first.
            models.Index(fields=["node", "-created_at"], name="monthly_report_node_created"),
        ]

    def __str__(self) -> str:
        return f"{self.node} {self.month:%Y-%m} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_REPORT_STATUSES
