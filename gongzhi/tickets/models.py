"""Resident demands (诉求/工单): categories with their policies, tickets, events, whistles, photos."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core import personal
from gongzhi.core.models import TimeStampedModel
from gongzhi.tickets.deadlines import Counting
from gongzhi.tickets.workflow import OPEN_STATES, Level, TicketState

if TYPE_CHECKING:
    from gongzhi.accounts.scope import Actor


class TicketKind(models.TextChoices):
    HELP = "help", _("Help")  # 码上帮: something broken, something to be done
    AFFAIRS = "affairs", _("Affairs")  # 码上办: a question about a government service
    VOICE = "voice", _("Voice")  # 码上说: a suggestion or an opinion


class Channel(models.TextChoices):
    DOORPLATE = "doorplate", _("Doorplate QR code")  # 扫码
    WEB = "web", _("Web")
    DOORSTEP = "doorstep", _("On the doorstep")  # 小马扎 / 入户走访
    HALL = "hall", _("Reception day")  # 接待日 / 服务大厅
    PHONE = "phone", _("Phone")  # 电话
    API = "api", _("API")  # Open311 and the JSON API


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")  # 满意
    BASICALLY_SATISFIED = "basically_satisfied", _("Basically satisfied")  # 基本满意
    UNSATISFIED = "unsatisfied", _("Unsatisfied")  # 不满意


class Category(TimeStampedModel):
    """A kind of matter with its handling policy; Open311 calls it a service."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    group = models.CharField(_("group"), max_length=50, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=TicketKind.choices, default=TicketKind.HELP)
    keywords = models.CharField(
        _("keywords"),
        max_length=300,
        blank=True,
        help_text=_("Words that suggest this category, separated by spaces."),
    )
    default_level = models.PositiveSmallIntegerField(
        _("default level"), choices=Level.choices, default=Level.GRID
    )
    response_minutes = models.PositiveIntegerField(
        _("response deadline (minutes)"), validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 60)]
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution deadline (minutes)"),
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 180)],
    )
    counting = models.CharField(
        _("counting"), max_length=16, choices=Counting.choices, default=Counting.CALENDAR
    )
    # Empty: the platform's default, GONGZHI_TICKET_REPORT_IN_MINUTES (120 minutes unless configured).
    report_in_minutes = models.PositiveIntegerField(
        _("report-in deadline (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 30)],
    )
    is_urgent = models.BooleanField(_("urgent"), default=False)
    departments = models.ManyToManyField(
        "territory.Organization",
        verbose_name=_("departments that answer for it"),
        related_name="ticket_categories",
        blank=True,
        limit_choices_to={"kind": "department"},
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")
        ordering = ["order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolution_minutes__gte=models.F("response_minutes")),
                name="category_resolution_after_response",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def report_in_period(self) -> int:
        """Minutes a summoned department has to report in (counted as `counting` says), and between
        the reminders of a department that has not."""
        return self.report_in_minutes or settings.TICKET_REPORT_IN_MINUTES


class QuestionType(models.TextChoices):
    """Open311 attribute datatypes, and a date (Open311 has none: it is offered there as a string)."""

    STRING = "string", _("Short text")
    TEXT = "text", _("Long text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")  # a calendar day, "2026-11-20": no time, no time zone
    DATETIME = "datetime", _("Date and time")  # a moment, kept with its offset: "2026-11-20T08:30:00+08:00"
    SINGLE = "singlevaluelist", _("Single choice")
    MULTIPLE = "multivaluelist", _("Multiple choice")


class CategoryQuestion(models.Model):
    """An extra question a category asks (the floor of a leak); an Open311 attribute."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="questions")
    code = models.SlugField(_("code"), max_length=50)
    prompt = models.CharField(_("question"), max_length=200)
    description = models.CharField(_("description"), max_length=300, blank=True)
    datatype = models.CharField(_("answer type"), max_length=20, choices=QuestionType.choices)
    required = models.BooleanField(_("required"), default=False)
    # For choice questions: [{"key": "1", "name": "一楼"}, ...]
    choices = models.JSONField(_("choices"), default=list, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=1)

    class Meta:
        verbose_name = _("category question")
        verbose_name_plural = _("category questions")
        ordering = ["category", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="category_question_code_unique")
        ]

    def __str__(self) -> str:
        return self.prompt


class TicketQuerySet(models.QuerySet["Ticket"]):
    def open(self) -> TicketQuerySet:
        return self.filter(state__in=OPEN_STATES)

    def visible_to(self, actor: Actor) -> TicketQuerySet:
        """Tickets whose address is in the actor's scope, and those summoning the actor's department."""
        from gongzhi.accounts.models import Role
        from gongzhi.accounts.permissions import Perm
        from gongzhi.accounts.scope import scope_q

        if actor.is_superuser:
            return self
        query = scope_q(actor, "node__path", Perm.VIEW_TICKETS)
        departments = actor.organization_ids(Role.DEPARTMENT_HANDLER)
        if departments:
            query |= Q(
                pk__in=Summons.objects.filter(department_id__in=departments).values("whistle__ticket_id")
            )
        return self.filter(query)


class Ticket(models.Model):
    """One demand of a resident, from submission to rating."""

    number = models.CharField(_("ticket number"), max_length=20, unique=True)
    # The resident's capability to follow and rate the ticket without an account (and Open311's token).
    follow_token = models.CharField(max_length=32, unique=True, editable=False)
    # A double click, a retried POST or an Open311 client's retry carries the same key: one ticket.
    submit_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=TicketKind.choices)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField(_("description"), max_length=2000)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    # Where: the address (entrance, household, building, compound …) and the grid it belongs to.
    node = models.ForeignKey(
        "territory.Node", verbose_name=_("address"), on_delete=models.PROTECT, related_name="tickets"
    )
    grid = models.ForeignKey("territory.Node", on_delete=models.PROTECT, related_name="grid_tickets")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    # Who asked. A resident needs no account; the phone is verified by a one-time code.
    reporter_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_tickets",
    )
    reporter_name = models.CharField(_("name"), max_length=50, blank=True)
    reporter_phone = models.CharField(_("phone"), max_length=20, blank=True)
    reporter_phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    is_anonymous = models.BooleanField(_("anonymous"), default=False)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="entered_tickets",
    )
    # Who handles it now: the level and its node (the grid, its community, its subdistrict).
    state = models.CharField(
        _("state"), max_length=16, choices=TicketState.choices, default=TicketState.SUBMITTED
    )
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices, default=Level.GRID)
    owner_node = models.ForeignKey("territory.Node", on_delete=models.PROTECT, related_name="owned_tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    # Bumped by every change; concurrent writers compare-and-set on it.
    version = models.PositiveIntegerField(default=1)
    submitted_at = models.DateTimeField(_("submitted at"))
    response_due_at = models.DateTimeField(_("respond by"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolve by"), null=True, blank=True)
    rating_due_at = models.DateTimeField(_("rate by"), null=True, blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reminders = models.PositiveIntegerField(_("reminders"), default=0)  # 催办
    reopen_count = models.PositiveSmallIntegerField(default=0)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_tickets"
    )
    rating = models.CharField(_("rating"), max_length=24, choices=Rating.choices, blank=True)
    rating_comment = models.CharField(_("rating comment"), max_length=500, blank=True)
    resolution_note = models.TextField(_("what was done"), max_length=2000, blank=True)
    # What the community's public board (三公开) may say was done: written by the resolving staff for
    # the public, checked for personal data (gongzhi.core.redact). Never copied from the note above.
    public_outcome = models.CharField(_("outcome for the public board"), max_length=200, blank=True)
    rejection_reason = models.CharField(_("reason"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            # The sweep: open tickets past their response or resolution deadline, oldest first.
            models.Index(
                fields=["response_due_at"],
                name="ticket_response_due_open",
                condition=Q(state__in=["submitted", "reopened"]),
            ),
            models.Index(
                fields=["resolution_due_at"],
                name="ticket_resolution_due_open",
                condition=Q(state__in=["accepted", "in_progress"]),
            ),
            models.Index(fields=["rating_due_at"], name="ticket_rating_due", condition=Q(state="resolved")),
            # Insight dashboards: the overdue (and open) tickets of a subtree's grids, most overdue
            # first, without reading the rest of the district's backlog.
            models.Index(
                fields=["grid", "response_due_at"],
                name="ticket_grid_response_due",
                condition=Q(state__in=["submitted", "reopened"]),
            ),
            models.Index(
                fields=["grid", "resolution_due_at"],
                name="ticket_grid_resolution_due",
                condition=Q(state__in=["accepted", "in_progress"]),
            ),
            # Staff lists: a grid's or owner's tickets, newest first.
            models.Index(fields=["owner_node", "state", "-submitted_at"], name="ticket_owner_state"),
            models.Index(fields=["grid", "-submitted_at"], name="ticket_grid_submitted"),
            models.Index(fields=["node", "-submitted_at"], name="ticket_node_submitted"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | Q(state="merged"), name="ticket_merged_has_target"
            ),
            models.CheckConstraint(
                condition=~Q(state="rejected") | ~Q(rejection_reason=""), name="ticket_rejected_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def masked_phone(self) -> str:
        return personal.mask_phone(self.reporter_phone) if self.reporter_phone else ""

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class EventAction(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    STARTED = "started", _("Work started")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    MERGED = "merged", _("Merged")
    REOPENED = "reopened", _("Reopened")
    ESCALATED = "escalated", _("Escalated")
    REMINDED = "reminded", _("Reminder")  # 催办
    WHISTLED = "whistled", _("Departments summoned")  # 吹哨
    REPORTED_IN = "reported_in", _("Department reported in")  # 报到
    DEPARTMENT_ACTED = "department_acted", _("Department recorded its work")
    CONFIRMED = "confirmed", _("Summoning level confirmed")
    RATED = "rated", _("Rated")
    COMMENTED = "commented", _("Comment")


class TicketEvent(models.Model):
    """One change of a ticket. Append-only: notifications and roll-ups are derived from these."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # Who acted, in words, when there is no user: "resident", "system", a department's name.
    actor_label = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=20, choices=EventAction.choices)
    from_state = models.CharField(max_length=16, choices=TicketState.choices, blank=True)
    to_state = models.CharField(max_length=16, choices=TicketState.choices, blank=True)
    from_level = models.PositiveSmallIntegerField(choices=Level.choices, null=True, blank=True)
    to_level = models.PositiveSmallIntegerField(choices=Level.choices, null=True, blank=True)
    note = models.TextField(max_length=2000, blank=True)
    # Shown to the resident (their own timeline) or to staff only (internal notes).
    is_public = models.BooleanField(default=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["ticket", "at"], name="ticket_event_ticket_at"),
            # Roll-ups (the insight issue) read events in id order from a high-water mark.
            models.Index(fields=["at"], name="ticket_event_at"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


def photo_path(instance: TicketPhoto, filename: str) -> str:
    return f"tickets/{instance.ticket_id}/{filename}"


class TicketPhoto(models.Model):
    """A photo of the matter (from the resident) or of the work (before/after, from staff)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey(
        TicketEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    image = models.ImageField(upload_to=photo_path, width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.image.name or ""


class Whistle(models.Model):
    """吹哨: the grid or the community summons departments; it resolves only when that level confirms."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="whistles")
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    node = models.ForeignKey("territory.Node", on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("note"), max_length=2000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.ticket} · {self.created_at:%Y-%m-%d}"


class Summons(models.Model):
    """One department summoned by a whistle: it must report in by `due_at` and record its work."""

    whistle = models.ForeignKey(Whistle, on_delete=models.CASCADE, related_name="summonses")
    department = models.ForeignKey(
        "territory.Organization", on_delete=models.PROTECT, related_name="summonses"
    )
    due_at = models.DateTimeField()
    reported_at = models.DateTimeField(null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action_note = models.TextField(_("what was done"), max_length=2000, blank=True)
    acted_at = models.DateTimeField(null=True, blank=True)
    # 催办: a department late to report in is reminded at its deadline, then once every report-in
    # period until it reports in; `remind_at` is the next reminder, `reminded_at` the last one.
    reminders = models.PositiveIntegerField(_("reminders"), default=0)
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["whistle", "department"], name="summons_department_once"),
        ]
        indexes = [
            # The sweep: summonses not reported in whose next reminder is due.
            models.Index(
                fields=["remind_at"], name="summons_remind_open", condition=Q(reported_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.whistle_id} → {self.department_id}"
