"""People of the network: residents, their households and party members."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core import personal
from gongzhi.core.models import TimeStampedModel

if TYPE_CHECKING:
    from gongzhi.accounts.scope import Actor
from gongzhi.territory.models import Node, Organization


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    UNKNOWN = "", _("Not stated")


class Tag(models.Model):
    """A label used for care and service planning, e.g. 独居老人 (living alone, elderly)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class PersonQuerySet(models.QuerySet["Person"]):
    def visible_to(self, actor: Actor) -> PersonQuerySet:
        """People whose home node lies in the actor's scope. Call only from selectors."""
        from gongzhi.accounts.scope import scope_q

        return self.filter(scope_q(actor, "home__path"))


class Person(TimeStampedModel):
    """A resident. Need not have a user account. Phone kept plain (masked on output);
    the ID number only encrypted, with a keyed hash for exact look-up."""

    # Not indexed (TimeStampedModel indexes it): nothing lists or filters people by when the
    # row was made, and roster imports write millions of rows.
    created_at = models.DateTimeField(auto_now_add=True)
    name = models.CharField(_("name"), max_length=60)
    name_initials = models.CharField(_("pinyin initials"), max_length=60, db_index=True, editable=False)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    phone_last4 = models.CharField(max_length=4, blank=True, db_index=True, editable=False)
    id_number_encrypted = models.TextField(_("ID number (encrypted)"), blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField(
        _("birth year"), null=True, blank=True, validators=[MinValueValidator(1880), MaxValueValidator(2100)]
    )
    home = models.ForeignKey(
        Node,
        verbose_name=_("home"),
        on_delete=models.PROTECT,
        related_name="people",
        help_text=_("The household (or, lacking one, the node) the person is registered at."),
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="people")

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["name", "pk"]
        constraints = [
            # One person per ID number; blank (unknown) hashes are exempt.
            models.UniqueConstraint(
                fields=["id_number_hash"], condition=~Q(id_number_hash=""), name="person_unique_id_number"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_phone(self) -> str:
        return personal.mask_phone(self.phone)

    @property
    def has_id_number(self) -> bool:
        return bool(self.id_number_encrypted)

    @property
    def masked_id_number(self) -> str:
        # The mask is computed from the decrypted value but never returns it whole.
        return (
            personal.mask_id_number(personal.decrypt(self.id_number_encrypted)) if self.has_id_number else ""
        )


class Relation(models.TextChoices):
    OWNER = "owner", _("Owner")  # 业主
    TENANT = "tenant", _("Tenant")  # 租户
    FAMILY = "family", _("Family member")  # 家庭成员


class Residency(TimeStampedModel):
    """A person's tie to a household. An owner carries a share of its floor area (owners' votes)."""

    # No index of its own on person: the unique (person, household) index starts with it.
    # Nor on created_at (nothing filters residencies by it; roster imports write millions).
    created_at = models.DateTimeField(auto_now_add=True)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="residencies", db_index=False)
    household = models.ForeignKey(
        Node, on_delete=models.PROTECT, related_name="residencies", limit_choices_to={"kind": "household"}
    )
    relation = models.CharField(_("relation"), max_length=8, choices=Relation.choices)
    ownership_share = models.DecimalField(
        _("ownership share"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.0001")), MaxValueValidator(Decimal("1"))],
        help_text=_("The owner's fraction of the floor area, from 0 to 1."),
    )

    class Meta:
        verbose_name = _("residency")
        verbose_name_plural = _("residencies")
        constraints = [
            models.UniqueConstraint(fields=["person", "household"], name="residency_unique_person_household"),
            models.CheckConstraint(
                condition=Q(ownership_share__isnull=True)
                | (Q(relation="owner") & Q(ownership_share__gt=0) & Q(ownership_share__lte=1)),
                name="residency_share_only_owner_in_range",
            ),
        ]


class PartyMember(TimeStampedModel):
    """A person's party membership; `employer` is the in-service unit for 双报到."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="party_membership")
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("party organization"),
        on_delete=models.PROTECT,
        related_name="members",
        limit_choices_to={"kind": "party"},
    )
    employer = models.ForeignKey(
        Organization,
        verbose_name=_("in-service employer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="employed_party_members",
    )
    joined_year = models.PositiveSmallIntegerField(
        _("year joined"), null=True, blank=True, validators=[MinValueValidator(1921), MaxValueValidator(2100)]
    )

    class Meta:
        verbose_name = _("party member")
        verbose_name_plural = _("party members")

    @property
    def is_in_service(self) -> bool:
        return self.employer_id is not None
