"""Roll-ups of the ticket events (see `definitions.py` for what is counted and how).

`TicketFacts` holds each ticket's counted facts, once. Every roll-up row is a sum of what the facts
contribute (`facts.contributions`):

- `DailyRollup`: by submission day, grid, category, channel, kind and level (the finest; the public
  board and the monthly report read it);
- per *dashboard node* — the grid and each community, subdistrict and district above it, as
  `GridPlacement` records them — and day: `NodeDailyRollup` (the counts), `NodeDimensionRollup`
  (tickets received by kind, category, channel and level, and the duration histograms),
  `TermRollup` (hot-topic words, the last two weeks only), and `NodeOpenRollup` (open now, no day);
- per department: `DepartmentRollup` (its summonses by node and day), `DepartmentDailyRollup` (the
  counts of the tickets it was summoned on) and `DepartmentWaitRollup` (its report-in times).

A dashboard reads a handful of rows per day shown, whatever the history and the district's size.
These tables are derived (rebuilt from the events at will), so their foreign keys have no database
constraint (checking one per row written cost a quarter of a rebuild) and no index of their own:
each table's unique key starts with the column its reads filter on, and a lone foreign-key index
both slowed every write and lured the planner away from the key's (node, day) range. Deleting a
node or a category still deletes the rows (Django's CASCADE), and nothing else writes them.
The worker folds events into the facts in id order from the high-water mark in `RollupMark` (one
row), and adds the difference of each changed ticket's contributions to the roll-ups in the same
transaction, so running it again changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.tickets.models import Channel, TicketKind
from gongzhi.tickets.workflow import Level


def _derived_fk(to: str) -> models.ForeignKey:  # type: ignore[type-arg]
    """A foreign key of a derived table: no database constraint and no index of its own."""
    return models.ForeignKey(
        to, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )


class RollupMark(models.Model):
    """The id of the last ticket event folded into the roll-ups. Exactly one row, id 1."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)
    # The shape of the roll-ups the rows were built with (services.ROLLUP_VERSION): the worker
    # rebuilds them when the code counts something new.
    version = models.PositiveSmallIntegerField(default=0)
    # While a rebuild refolds the facts (in many short transactions) the worker leaves them alone;
    # the rebuild beats its heart per chunk, and one that stopped beating is started again.
    rebuild_id = models.CharField(max_length=32, blank=True)
    rebuild_heartbeat = models.DateTimeField(null=True, blank=True)
    # Hot-topic words are kept from this day on (Monday of last week); older rows are dropped.
    terms_from = models.DateField(null=True, blank=True)

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
        "tickets.Ticket",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="insight_facts",
        db_constraint=False,
    )
    day = models.DateField()  # the local date of submission
    grid = _derived_fk("territory.Node")
    category = _derived_fk("tickets.Category")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    kind = models.CharField(max_length=16, choices=TicketKind.choices)
    level = models.PositiveSmallIntegerField(choices=Level.choices)  # the highest level that owned it
    # Ids of the whistle and report-in events already added to the department roll-up: a replay of
    # the events (the mark set back) adds nothing twice. A ticket has few of them.
    department_events = models.JSONField(default=list, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Waiting for a response (submitted, reopened) / for a resolution (accepted, in progress): 0 or 1.
    awaiting_response = models.PositiveSmallIntegerField(default=0)
    awaiting_resolution = models.PositiveSmallIntegerField(default=0)
    # Duration histogram buckets (definitions.duration_bucket) of the first response and of the
    # latest resolution; counted only while `responded` / `resolved` is 1.
    respond_bucket = models.PositiveSmallIntegerField(null=True, blank=True)
    resolve_bucket = models.PositiveSmallIntegerField(null=True, blank=True)
    # The hot-topic words of the description, once each; kept for recent tickets only (a merge
    # takes them back out of the term roll-up).
    terms = models.JSONField(default=list, blank=True)
    # Departments summoned: {"departments": {id: [summoned, reported in, late, [wait buckets]]},
    # "whistles": {whistle id: ISO time}}; `summoned` is how many departments (0 for most tickets).
    summonses = models.JSONField(default=dict, blank=True)
    summoned = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("ticket facts")
        verbose_name_plural = _("ticket facts")
        indexes = [
            # A grid's breakdowns, durations and hot-topic categories: its facts over a date range.
            models.Index(fields=["grid", "day"], name="ticket_facts_grid_day"),
        ]

    def __str__(self) -> str:
        return str(self.ticket_id)


class DailyRollup(Counts):
    """The facts of the tickets submitted on one day in one grid, by category, channel, kind and level."""

    day = models.DateField()
    grid = _derived_fk("territory.Node")
    category = _derived_fk("tickets.Category")
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
            # The public board and the monthly report: the grids of a subtree over a date range.
            models.Index(fields=["grid", "day"], name="daily_rollup_grid_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.grid_id}"


class SummonsCounts(models.Model):
    summoned = models.PositiveIntegerField(default=0)
    reported_in = models.PositiveIntegerField(default=0)
    reported_late = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class GridPlacement(models.Model):
    """A dashboard node (the grid itself, its community, subdistrict, district) that a grid's tickets
    are counted under. Written when the worker first meets the grid; when the tree moves a grid, the
    worker recounts the roll-ups from the facts (`rollups_regroup`) and writes the new placement."""

    grid = _derived_fk("territory.Node")
    node = _derived_fk("territory.Node")

    class Meta:
        verbose_name = _("grid placement")
        verbose_name_plural = _("grid placements")
        constraints = [models.UniqueConstraint(fields=["grid", "node"], name="grid_placement_key")]

    def __str__(self) -> str:
        return f"{self.grid_id} → {self.node_id}"


class NodeDailyRollup(Counts):
    """The counts of the tickets submitted on one day under one dashboard node (its whole subtree)."""

    node = _derived_fk("territory.Node")
    day = models.DateField()

    class Meta:
        verbose_name = _("node daily roll-up")
        verbose_name_plural = _("node daily roll-ups")
        constraints = [models.UniqueConstraint(fields=["node", "day"], name="node_daily_rollup_key")]

    def __str__(self) -> str:
        return f"{self.day} {self.node_id}"


class NodeDimensionRollup(models.Model):
    """Tickets submitted on one day under one community, subdistrict or district, counted by one value
    of a dimension: received by kind, category (its id), channel or level; responded / resolved by
    duration bucket. (A grid's are read from its own facts.)"""

    node = _derived_fk("territory.Node")
    day = models.DateField()
    dimension = models.CharField(max_length=16)  # definitions.DIMENSIONS + DURATION_DIMENSIONS
    value = models.CharField(max_length=32)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("node dimension roll-up")
        verbose_name_plural = _("node dimension roll-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["node", "day", "dimension", "value"], name="node_dimension_rollup_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.node_id} {self.dimension}={self.value}"


class NodeOpenRollup(models.Model):
    """The tickets under one dashboard node that are open now (as of the last roll-up)."""

    node = models.OneToOneField(
        "territory.Node", primary_key=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    awaiting_response = models.PositiveIntegerField(default=0)
    awaiting_resolution = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("open tickets roll-up")
        verbose_name_plural = _("open tickets roll-ups")

    def __str__(self) -> str:
        return f"{self.node_id}: {self.awaiting_response} + {self.awaiting_resolution}"


class TermRollup(models.Model):
    """How many tickets submitted on one day under one dashboard node use a word (hot topics). Only
    the days from `RollupMark.terms_from` on are kept."""

    node = _derived_fk("territory.Node")
    day = models.DateField()
    term = models.CharField(max_length=32)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("hot-topic word roll-up")
        verbose_name_plural = _("hot-topic word roll-ups")
        constraints = [models.UniqueConstraint(fields=["node", "day", "term"], name="term_rollup_key")]

    def __str__(self) -> str:
        return f"{self.day} {self.node_id} {self.term}"


class DepartmentRollup(SummonsCounts):
    """Summonses (吹哨) of one department on the tickets submitted on one day under one dashboard node."""

    day = models.DateField()
    node = _derived_fk("territory.Node")
    department = _derived_fk("territory.Organization")

    class Meta:
        verbose_name = _("department roll-up")
        verbose_name_plural = _("department roll-ups")
        constraints = [
            models.UniqueConstraint(fields=["node", "day", "department"], name="department_rollup_node_key")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.department_id}"


class DepartmentDailyRollup(Counts, SummonsCounts):
    """The tickets submitted on one day that summoned one department: their counts (each ticket once,
    however often the department was summoned on it) and the department's summonses."""

    department = _derived_fk("territory.Organization")
    day = models.DateField()

    class Meta:
        verbose_name = _("department daily roll-up")
        verbose_name_plural = _("department daily roll-ups")
        constraints = [
            models.UniqueConstraint(fields=["department", "day"], name="department_daily_rollup_key")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.department_id}"


class DepartmentWaitRollup(models.Model):
    """A department's report-ins on the tickets submitted on one day, by time-to-report-in bucket."""

    department = _derived_fk("territory.Organization")
    day = models.DateField()
    bucket = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("department report-in roll-up")
        verbose_name_plural = _("department report-in roll-ups")
        constraints = [
            models.UniqueConstraint(fields=["department", "day", "bucket"], name="department_wait_rollup_key")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.department_id} {self.bucket}"


class TargetLevel(models.TextChoices):
    GRID = "grid", _("Grid")
    COMMUNITY = "community", _("Community")
    SUBDISTRICT = "subdistrict", _("Subdistrict")
    DISTRICT = "district", _("District")
    DEPARTMENT = "department", _("Department")


class TargetRate(models.TextChoices):
    RESPONSE = "response", _("Response rate")
    RESOLUTION = "resolution", _("Resolution rate")
    RESOLUTION_ON_TIME = "resolution_on_time", _("On-time resolution rate")
    SATISFACTION = "satisfaction", _("Satisfaction rate")


class RateTarget(models.Model):
    """The target of one rate at one level, set in the back office (otherwise the defaults of
    `definitions.DEFAULT_TARGETS`, or settings.INSIGHT_TARGETS)."""

    level = models.CharField(_("level"), max_length=16, choices=TargetLevel.choices)
    rate = models.CharField(_("rate"), max_length=24, choices=TargetRate.choices)
    percent = models.DecimalField(
        _("target (%)"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("rate target")
        verbose_name_plural = _("rate targets")
        ordering = ["level", "rate"]
        constraints = [
            models.UniqueConstraint(fields=["level", "rate"], name="rate_target_level_rate"),
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=100), name="rate_target_percent_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} · {self.get_rate_display()}: {self.percent}%"


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
