"""Imports of real data from Excel: one row per uploaded file, run by the worker."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import TimeStampedModel


class ImportKind(models.TextChoices):
    TERRITORY = "territory", _("Territory")  # 区划
    ROSTER = "roster", _("Household roster")  # 住户花名册


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")  # waiting for a worker
    RUNNING = "running", _("Running")  # a worker reads, checks and writes the file
    SUCCEEDED = "succeeded", _("Succeeded")  # every row written in one transaction
    FAILED = "failed", _("Failed")  # nothing written; `errors` says why


class ImportPhase(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    READING = "reading", _("Reading the file")
    CHECKING = "checking", _("Checking every row")
    WRITING = "writing", _("Writing")
    DONE = "done", _("Done")


FINISHED_STATUSES = frozenset({ImportStatus.SUCCEEDED, ImportStatus.FAILED})
ENTITY_LABELS = {"nodes": _("Territory nodes"), "households": _("Households"), "people": _("People")}


class ImportJob(TimeStampedModel):
    """One uploaded xlsx file and what became of it.

    `errors` is a list of {"row", "column", "reason"} (row as Excel numbers it, reason already
    translated into the uploader's language); `summary` holds created/updated/unchanged counts
    per entity. While the worker writes (inside one transaction) the live progress is kept in
    the cache, because the row itself cannot be seen by others until the commit.
    """

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="import_jobs",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=200)
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    language = models.CharField(max_length=16, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED, db_index=True
    )
    phase = models.CharField(_("phase"), max_length=16, choices=ImportPhase.choices, default="waiting")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress_done__lte=models.F("progress_total")),
                name="import_job_progress_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def percent(self) -> int:
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0

    @property
    def summary_rows(self) -> list[tuple[str, int, int, int]]:
        """(entity, created, updated, unchanged) for the page, in a stable order."""
        rows = []
        for key, label in ENTITY_LABELS.items():
            counts = self.summary.get(key)
            if isinstance(counts, dict):
                rows.append((str(label), counts["created"], counts["updated"], counts["unchanged"]))
        return rows

    @property
    def error_count(self) -> int:
        return int(self.summary.get("error_count", len(self.errors)))
