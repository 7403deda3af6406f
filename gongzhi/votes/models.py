"""Owners' votes (业主共同决定): the vote, its electorate snapshot and the ballot chain."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.votes.tally import Choice, Threshold


class Matter(models.TextChoices):
    """The matters of Civil Code art. 278, by item."""

    RULES = "rules", _("(1) Rules of procedure of the owners' assembly")  # 议事规则
    MANAGEMENT_RULES = "management_rules", _("(2) Management statute")  # 管理规约
    COMMITTEE = "committee", _("(3) Electing or replacing the owners' committee")  # 业委会
    PROPERTY_MANAGER = "property_manager", _("(4) Hiring or dismissing the property manager")  # 物业
    FUND_USE = "fund_use", _("(5) Using the maintenance fund")  # 使用维修资金
    FUND_RAISE = "fund_raise", _("(6) Raising the maintenance fund")  # 筹集维修资金
    REBUILD = (
        "rebuild",
        _("(7) Rebuilding or renovating buildings and their facilities"),
    )  # 改建重建 (供暖改造)
    COMMON_PARTS = "common_parts", _("(8) Changing the use of common parts or using them for business")
    OTHER = "other", _("(9) Other major matters of common ownership and management")


# Items (6)–(8) need at least three-quarters; everything else more than half.
THREE_QUARTER_MATTERS = frozenset({Matter.FUND_RAISE, Matter.REBUILD, Matter.COMMON_PARTS})


def threshold_for(matter: str) -> Threshold:
    return Threshold.THREE_QUARTERS if matter in THREE_QUARTER_MATTERS else Threshold.MORE_THAN_HALF


class VoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")  # being prepared; no electorate yet
    OPEN = "open", _("Open")  # electorate frozen; ballots accepted between opens_at and closes_at
    CLOSED = "closed", _("Closed")  # tallied; record published


VOTE_TRANSITIONS: dict[VoteStatus, frozenset[VoteStatus]] = {
    VoteStatus.DRAFT: frozenset({VoteStatus.OPEN}),
    VoteStatus.OPEN: frozenset({VoteStatus.CLOSED}),
    VoteStatus.CLOSED: frozenset(),
}


class Vote(models.Model):
    compound = models.ForeignKey(
        "territory.Node", verbose_name=_("compound"), on_delete=models.PROTECT, related_name="votes"
    )
    question = models.CharField(_("question"), max_length=300)
    description = models.TextField(_("explanation"), max_length=5000, blank=True)
    matter = models.CharField(_("matter (Civil Code art. 278)"), max_length=24, choices=Matter.choices)
    threshold = models.CharField(max_length=16, choices=[(t.value, t.value) for t in Threshold])
    status = models.CharField(_("status"), max_length=8, choices=VoteStatus.choices, default=VoteStatus.DRAFT)
    opens_at = models.DateTimeField(_("voting opens"))
    closes_at = models.DateTimeField(_("voting closes"))
    genesis = models.CharField(max_length=64, blank=True)
    chain_head = models.CharField(max_length=64, blank=True)
    next_seq = models.PositiveIntegerField(default=1)
    # The published result (the tally's figures), written once when the vote closes.
    result = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    # When voting actually closed: `closes_at` when the period ran out, earlier when staff stopped it.
    closed_at = models.DateTimeField(null=True, blank=True)
    # Why staff stopped voting before `closes_at` (required then, published with the result).
    close_reason = models.TextField(_("reason for closing early"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("owners' vote")
        verbose_name_plural = _("owners' votes")
        ordering = ["-opens_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="vote_closes_after_opening"
            )
        ]
        indexes = [
            # The closing sweep: open votes past their closing time.
            models.Index(fields=["closes_at"], name="vote_open_closes", condition=Q(status="open")),
        ]

    def __str__(self) -> str:
        return self.question

    @property
    def closed_early(self) -> bool:
        return self.closed_at is not None and self.closed_at < self.closes_at


class VotePart(models.Model):
    """One exclusive part of the electorate, frozen when the vote opens."""

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="parts")
    household = models.ForeignKey("territory.Node", on_delete=models.PROTECT, related_name="+")
    area = models.DecimalField(max_digits=9, decimal_places=2)
    # Pseudonym of the owner (the same for all parts of one owner; "developer" for unsold parts).
    owner_key = models.CharField(max_length=32)
    developer_unsold = models.BooleanField(default=False)
    # The people who may vote for this part (its registered owners). Never published.
    person_ids = models.JSONField(default=list)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["vote", "household"], name="vote_part_once"),
            models.CheckConstraint(condition=Q(area__gt=0), name="vote_part_area_positive"),
        ]
        indexes = [models.Index(fields=["vote", "owner_key"], name="vote_part_owner")]

    def __str__(self) -> str:
        return f"{self.vote_id}:{self.household_id}"


class VoteOwner(models.Model):
    """Who may vote for which owner key: looked up when an owner casts (one indexed read)."""

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="owners")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    owner_key = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vote", "person", "owner_key"], name="vote_owner_once")
        ]

    def __str__(self) -> str:
        return f"{self.vote_id}:{self.person_id}"


class BallotMethod(models.TextChoices):
    IN_PERSON = "in_person", _("In person on a phone")
    PROXY = "proxy", _("By a proxy with an authorization")
    PAPER = "paper", _("On paper, entered by staff")


def ballot_file_path(instance: Ballot, filename: str) -> str:
    return f"votes/{instance.vote_id}/{filename}"


class Ballot(models.Model):
    """One entry of the chain: a choice for one part. Replaced entries stay, marked superseded."""

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="ballots")
    part = models.ForeignKey(VotePart, on_delete=models.CASCADE, related_name="ballots")
    seq = models.PositiveIntegerField()
    choice = models.CharField(max_length=8, choices=[(c.value, c.value) for c in Choice])
    method = models.CharField(max_length=12, choices=BallotMethod.choices)
    cast_at = models.DateTimeField()
    hash = models.CharField(max_length=64)
    prev = models.CharField(max_length=64)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    voter = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proxy_name = models.CharField(max_length=50, blank=True)
    document = models.FileField(upload_to=ballot_file_path, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The casting's idempotency key: a double submission adds nothing.
    submit_key = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["vote", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["vote", "seq"], name="ballot_seq_once"),
            models.UniqueConstraint(
                fields=["part"], condition=Q(superseded_by__isnull=True), name="ballot_one_counted_per_part"
            ),
            models.CheckConstraint(
                condition=~Q(method="proxy") | ~Q(document=""), name="ballot_proxy_has_authorization"
            ),
            models.CheckConstraint(
                condition=~Q(method="paper") | ~Q(document=""), name="ballot_paper_has_scan"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vote_id}#{self.seq}"
