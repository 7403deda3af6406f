"""Digital doorplates (数字门牌): one current QR address per entrance or building."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Doorplate(models.Model):
    """The current plate of a node. Reissuing replaces `token`, so the old printed code stops working."""

    node = models.OneToOneField("territory.Node", on_delete=models.CASCADE, related_name="doorplate")
    # A random part signed with the secret key: forged codes are refused before any database read,
    # guessed ones are impossible (96 random bits).
    token = models.CharField(max_length=64, unique=True)
    version = models.PositiveIntegerField(default=1)
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("doorplate")
        verbose_name_plural = _("doorplates")

    def __str__(self) -> str:
        return f"{self.node} v{self.version}"


class PrintLayout(models.TextChoices):
    SHEETS = "sheets", _("A4 sheets, six plates each")  # 2 × 3 per A4 page, cut along the lines
    SINGLE = "single", _("One large plate per page (A5)")  # A5 landscape, one plate per page


class PrintStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")  # waiting for a worker
    RUNNING = "running", _("Running")  # a worker draws the plates; `done` of `total` so far
    SUCCEEDED = "succeeded", _("Ready")  # `file` holds the PDF
    FAILED = "failed", _("Failed")  # `error` says why


FINISHED_PRINT_STATUSES = frozenset({PrintStatus.SUCCEEDED, PrintStatus.FAILED})


class PrintJob(models.Model):
    """One printing of the doorplates below a node (a community, grid, compound, building or
    entrance), run by the worker. The page polls `done`/`total`; `file` is the finished PDF."""

    node = models.ForeignKey(
        "territory.Node",
        verbose_name=_("place"),
        on_delete=models.CASCADE,
        related_name="doorplate_print_jobs",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="doorplate_print_jobs",
    )
    layout = models.CharField(
        _("layout"), max_length=16, choices=PrintLayout.choices, default=PrintLayout.SHEETS
    )
    reissue = models.BooleanField(_("reissue codes"), default=False)
    language = models.CharField(max_length=16, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=PrintStatus.choices, default=PrintStatus.QUEUED, db_index=True
    )
    total = models.PositiveIntegerField(_("plates"), default=0)
    done = models.PositiveIntegerField(_("plates drawn"), default=0)
    file = models.FileField(_("file"), upload_to="doorplates/%Y/%m/", max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("doorplate print job")
        verbose_name_plural = _("doorplate print jobs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(done__lte=models.F("total")), name="doorplate_print_job_done_within_total"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.node} #{self.pk} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_PRINT_STATUSES

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0
