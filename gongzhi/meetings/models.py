"""Deliberation (议事) and what it decides: meetings with agendas, attendance, minutes and
resolutions, and the projects (办实事) resolutions become."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MeetingKind(models.Model):
    """小马扎议事会, 居民议事会, 楼长见面会, 四位一体联席会, 民情恳谈会, 书记+物业经理接待日 — and more, configurable."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50)
    description = models.CharField(_("description"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("kind of meeting")
        verbose_name_plural = _("kinds of meeting")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")  # minutes and resolutions recorded
    CANCELLED = "cancelled", _("Cancelled")


MEETING_TRANSITIONS: dict[MeetingStatus, frozenset[MeetingStatus]] = {
    MeetingStatus.SCHEDULED: frozenset({MeetingStatus.HELD, MeetingStatus.CANCELLED}),
    MeetingStatus.HELD: frozenset(),
    MeetingStatus.CANCELLED: frozenset(),
}


class Recurrence(models.TextChoices):
    NONE = "", _("Once")
    WEEKLY = "weekly", _("Every week")
    MONTHLY = "monthly", _("Every month")


class MeetingSeries(models.Model):
    """A recurring meeting (the monthly building leaders' meeting): its occurrences are Meeting rows."""

    recurrence = models.CharField(max_length=8, choices=Recurrence.choices)
    until = models.DateField()

    def __str__(self) -> str:
        return f"{self.recurrence} until {self.until}"


class Meeting(models.Model):
    node = models.ForeignKey(
        "territory.Node", verbose_name=_("held for"), on_delete=models.PROTECT, related_name="meetings"
    )
    kind = models.ForeignKey(MeetingKind, verbose_name=_("kind"), on_delete=models.PROTECT)
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    place = models.CharField(_("place"), max_length=200)
    convener = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED
    )
    series = models.ForeignKey(
        MeetingSeries, null=True, blank=True, on_delete=models.SET_NULL, related_name="meetings"
    )
    # Minutes as sanitized HTML (nh3): the rich text never carries script or styles.
    minutes = models.TextField(_("minutes"), blank=True)
    # The sign-in QR code carries this; changing it makes earlier printed or photographed codes stale.
    signin_token = models.CharField(max_length=64, unique=True)
    residents_attending = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["node", "-starts_at"], name="meeting_node_starts")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="meeting_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Invitee(models.Model):
    """Who is invited: everyone holding a role on the meeting's node, an organization, or a person."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitees")
    role = models.CharField(max_length=24, blank=True)
    organization = models.ForeignKey(
        "territory.Organization", null=True, blank=True, on_delete=models.CASCADE
    )
    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(~Q(role="") & Q(organization__isnull=True) & Q(person__isnull=True))
                | (Q(role="") & Q(organization__isnull=False) & Q(person__isnull=True))
                | (Q(role="") & Q(organization__isnull=True) & Q(person__isnull=False)),
                name="invitee_exactly_one",
            )
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.role or self.organization_id or self.person_id}"


class MinutesRevision(models.Model):
    """The minutes as they were before a correction: corrections never overwrite history."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="minutes_revisions")
    minutes = models.TextField(_("minutes before the correction"))
    note = models.CharField(_("what was corrected and why"), max_length=500)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    corrected_at = models.DateTimeField(_("corrected at"))

    class Meta:
        verbose_name = _("earlier version of the minutes")
        verbose_name_plural = _("earlier versions of the minutes")
        ordering = ["meeting", "-corrected_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.meeting_id} @ {self.corrected_at:%Y-%m-%d %H:%M}"


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    order = models.PositiveSmallIntegerField(default=1)
    title = models.CharField(_("topic"), max_length=200)
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    tickets = models.ManyToManyField("tickets.Ticket", blank=True, related_name="agenda_items")
    survey = models.ForeignKey(
        "surveys.Survey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["meeting", "order", "pk"]

    def __str__(self) -> str:
        return self.title


class AttendanceMethod(models.TextChoices):
    QR = "qr", _("Scanned the meeting's code")
    STAFF = "staff", _("Signed in by staff")


class Attendance(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendances")
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(_("name"), max_length=60)
    method = models.CharField(max_length=8, choices=AttendanceMethod.choices)
    signed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "person"], name="attendance_person_once"),
            models.UniqueConstraint(fields=["meeting", "user"], name="attendance_user_once"),
            models.CheckConstraint(
                condition=Q(person__isnull=False) | Q(user__isnull=False), name="attendance_has_someone"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.name}"


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    UNDER_WAY = "under_way", _("Under way")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


PROJECT_TRANSITIONS: dict[ProjectStatus, frozenset[ProjectStatus]] = {
    ProjectStatus.PLANNED: frozenset({ProjectStatus.UNDER_WAY, ProjectStatus.CANCELLED}),
    ProjectStatus.UNDER_WAY: frozenset({ProjectStatus.DONE, ProjectStatus.CANCELLED}),
    ProjectStatus.DONE: frozenset(),
    ProjectStatus.CANCELLED: frozenset(),
}


class Project(models.Model):
    """A resolution or a 我为群众办实事 item, tracked to the end in public."""

    node = models.ForeignKey(
        "territory.Node",
        verbose_name=_("community or compound"),
        on_delete=models.PROTECT,
        related_name="projects",
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    owner = models.ForeignKey(
        "territory.Organization", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="projects"
    )
    deadline = models.DateField(_("deadline"))
    budget = models.DecimalField(_("budget (yuan)"), max_digits=12, decimal_places=2, default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=ProjectStatus.choices, default=ProjectStatus.PLANNED
    )
    is_public = models.BooleanField(_("shown on the community's public list"), default=True)
    satisfied = models.PositiveIntegerField(default=0)  # residents' satisfaction at the end
    unsatisfied = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(budget__gte=0), name="project_budget_not_negative")]

    def __str__(self) -> str:
        return self.title


class Resolution(models.Model):
    """决议: what a meeting decided, who owns it and by when; it becomes a project."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="resolutions")
    text = models.TextField(_("resolution"), max_length=2000)
    owner = models.ForeignKey(
        "territory.Organization", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    deadline = models.DateField(_("deadline"))
    project = models.OneToOneField(Project, on_delete=models.PROTECT, related_name="resolution")

    def __str__(self) -> str:
        return self.text[:50]


class FundingSource(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="funding")
    source = models.CharField(_("source"), max_length=100)  # 居民自筹, 街道补贴, 共建单位捐助, 社区基金 …
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="funding_amount_positive")]

    def __str__(self) -> str:
        return f"{self.source} {self.amount}"


class Milestone(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    order = models.PositiveSmallIntegerField(default=1)
    title = models.CharField(_("milestone"), max_length=200)
    due = models.DateField(_("due"), null=True, blank=True)
    done_at = models.DateField(_("done on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["project", "order", "pk"]

    def __str__(self) -> str:
        return self.title


class ProjectPhoto(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(max_length=8, choices=[("before", _("Before")), ("after", _("After"))])
    image = models.ImageField(upload_to="projects/%Y/%m/")
    caption = models.CharField(max_length=200, blank=True)
    uploaded_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.image.name or ""


class CalendarFeed(models.Model):
    """A user's private ICS address (calendar apps cannot log in); replacing the token revokes it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user} calendar"


class ProjectRating(models.Model):
    """A resident's satisfaction with a finished project, once per phone: the public project page
    dedupes by the phone's keyed hash (personal.lookup_hash), never storing the number itself."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="ratings")
    phone_hash = models.CharField(max_length=64)
    satisfied = models.BooleanField()
    rated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "phone_hash"], name="project_rating_once_per_phone")
        ]

    def __str__(self) -> str:
        return f"{self.project_id}: {'+' if self.satisfied else '-'}"
