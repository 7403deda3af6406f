"""The one network (一张网): the territory tree, its organizations and maintained counts."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from gongzhi.core.models import TimeStampedModel

if TYPE_CHECKING:
    from gongzhi.accounts.scope import Actor


class NodeKind(models.TextChoices):
    DISTRICT = "district", _("District")  # 区
    SUBDISTRICT = "subdistrict", _("Subdistrict")  # 街道
    COMMUNITY = "community", _("Community")  # 社区
    GRID = "grid", _("Grid")  # 网格
    MICRO_GRID = "micro_grid", _("Micro-grid")  # 微网格
    COMPOUND = "compound", _("Compound")  # 小区
    BUILDING = "building", _("Building")  # 楼栋
    ENTRANCE = "entrance", _("Entrance")  # 单元
    HOUSEHOLD = "household", _("Household")  # 户


# Which kinds may hang under which: the shape of the tree, checked by every service that
# adds or moves a node. Micro-grids and entrances are optional levels.
CHILD_KINDS: dict[str, frozenset[str]] = {
    NodeKind.DISTRICT: frozenset({NodeKind.SUBDISTRICT}),
    NodeKind.SUBDISTRICT: frozenset({NodeKind.COMMUNITY}),
    NodeKind.COMMUNITY: frozenset({NodeKind.GRID}),
    NodeKind.GRID: frozenset({NodeKind.MICRO_GRID, NodeKind.COMPOUND, NodeKind.BUILDING}),
    NodeKind.MICRO_GRID: frozenset({NodeKind.COMPOUND, NodeKind.BUILDING}),
    NodeKind.COMPOUND: frozenset({NodeKind.BUILDING}),
    NodeKind.BUILDING: frozenset({NodeKind.ENTRANCE, NodeKind.HOUSEHOLD}),
    NodeKind.ENTRANCE: frozenset({NodeKind.HOUSEHOLD}),
    NodeKind.HOUSEHOLD: frozenset(),
}
ROOT_KINDS = frozenset({NodeKind.DISTRICT})


class Heating(models.TextChoices):
    CENTRAL = "central", _("Central heating")  # 集中供暖
    SELF = "self", _("Self-heating")  # 自采暖
    NONE = "none", _("No heating")  # 无供暖


PATH_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def path_upper_bound(path: str) -> str | None:
    """The smallest string greater than every path that starts with `path` (None: no bound).

    Subtree filters use the range [path, bound) instead of LIKE 'path%': SQLite's LIKE and
    PostgreSQL's LIKE under a non-C collation cannot use the path index, a range can.
    """
    chars = list(path)
    for index in range(len(chars) - 1, -1, -1):
        position = PATH_ALPHABET.index(chars[index])
        if position + 1 < len(PATH_ALPHABET):
            return "".join(chars[:index]) + PATH_ALPHABET[position + 1]
    return None


def path_and_ancestors(path: str) -> list[str]:
    """The paths of a node and of every ancestor, root first, from its path alone (no query)."""
    step = Node.steplen
    return [path[:end] for end in range(step, len(path) + 1, step)]


def subtree_q(field_name: str, path: str) -> Q:
    """Rows whose materialized path `field_name` lies in the subtree rooted at `path`."""
    condition = Q(**{f"{field_name}__gte": path})
    bound = path_upper_bound(path)
    return condition & Q(**{f"{field_name}__lt": bound}) if bound else condition


class NodeQuerySet(MP_NodeQuerySet):
    def visible_to(self, actor: Actor) -> NodeQuerySet:
        """Nodes inside the actor's scope. Call only from selectors."""
        from gongzhi.accounts.scope import scope_q

        return self.filter(scope_q(actor, "path"))

    def subtree_of(self, node: Node) -> NodeQuerySet:
        return self.filter(subtree_q("path", node.path))


class NodeManager(MP_NodeManager):
    def get_queryset(self) -> NodeQuerySet:
        return NodeQuerySet(self.model, using=self._db).order_by("path")

    def visible_to(self, actor: Actor) -> NodeQuerySet:
        return self.get_queryset().visible_to(actor)


class Node(MP_Node):
    """One node of the territory tree, from district down to household.

    References to a node are foreign keys to its id, so moving (which rewrites `path`) or
    renaming a node keeps them valid. Attributes that belong to one kind are null elsewhere.
    """

    steplen = 4
    node_order_by: list[str] = []

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=NodeKind.choices, db_index=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    # compound
    year_built = models.PositiveSmallIntegerField(
        _("year built"), null=True, blank=True, validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    heating = models.CharField(_("heating"), max_length=16, choices=Heating.choices, blank=True)
    property_manager = models.ForeignKey(
        "territory.Organization",
        verbose_name=_("property manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_compounds",
    )
    # building
    floors = models.PositiveSmallIntegerField(
        _("floors"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    # household
    door_number = models.CharField(_("door number"), max_length=32, blank=True)
    floor_area = models.DecimalField(
        _("floor area (m²)"),
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("10000"))],
    )
    is_party_member_household = models.BooleanField(_("party-member household"), default=False)
    # The developer's unsold or undelivered part: in owners' votes all such parts count as one person.
    is_developer_unsold = models.BooleanField(_("developer's unsold part"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NodeManager()

    class Meta:
        verbose_name = _("territory node")
        verbose_name_plural = _("territory nodes")
        indexes = [models.Index(fields=["kind", "path"], name="node_kind_path")]
        constraints = [
            models.CheckConstraint(
                condition=Q(floor_area__isnull=True) | (Q(kind="household") & Q(floor_area__gt=0)),
                name="node_floor_area_household_positive",
            ),
            models.CheckConstraint(
                condition=Q(floors__isnull=True) | Q(kind="building"), name="node_floors_only_building"
            ),
            models.CheckConstraint(
                condition=Q(year_built__isnull=True) | Q(kind="compound"),
                name="node_year_built_only_compound",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | (Q(latitude__gte=-90) & Q(latitude__lte=90)),
                name="node_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | (Q(longitude__gte=-180) & Q(longitude__lte=180)),
                name="node_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ancestor_paths(self) -> list[str]:
        """Paths of this node and every ancestor, root first (no query)."""
        return [self.path[: index * self.steplen] for index in range(1, self.depth + 1)]


class NodeStats(models.Model):
    """Maintained subtree counts for one node (roll-up): read by the home page and the API.

    People services adjust every ancestor's row in the same transaction as the write;
    `gongzhi manage rebuild_stats` recomputes all rows from the raw tables.
    """

    node = models.OneToOneField(Node, primary_key=True, on_delete=models.CASCADE, related_name="stats")
    households = models.PositiveIntegerField(default=0)
    residents = models.PositiveIntegerField(default=0)
    party_members = models.PositiveIntegerField(default=0)
    building_leaders = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("node counts")
        verbose_name_plural = _("node counts")

    def __str__(self) -> str:
        return f"{self.node_id}: {self.households}/{self.residents}"


class OrganizationKind(models.TextChoices):
    PARTY = "party", _("Party organization")  # 党组织
    RESIDENTS_COMMITTEE = "residents_committee", _("Residents' committee")  # 居委会
    OWNERS_COMMITTEE = "owners_committee", _("Owners' committee")  # 业委会
    PROPERTY_MANAGER = "property_manager", _("Property manager")  # 物业
    DEPARTMENT = "department", _("Government department")  # 职能部门
    CO_BUILDING_UNIT = "co_building_unit", _("Co-building unit")  # 共建单位
    SOCIAL_ORGANIZATION = "social_organization", _("Social organization")  # 社会组织
    MERCHANT = "merchant", _("Merchant")  # 商户


class PartyLevel(models.TextChoices):
    DISTRICT_COMMITTEE = "district_committee", _("District party committee")  # 区委
    WORKING_COMMITTEE = "working_committee", _("Party working committee")  # 街道党工委
    COMMITTEE = "committee", _("Party committee")  # 社区党委
    GENERAL_BRANCH = "general_branch", _("General party branch")  # 党总支
    BRANCH = "branch", _("Party branch")  # 党支部
    GROUP = "group", _("Party group")  # 党小组


class MatterCategory(TimeStampedModel):
    """A category of matter (e.g. water supply, heating) that departments answer for."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("matter category")
        verbose_name_plural = _("matter categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class OrganizationQuerySet(models.QuerySet["Organization"]):
    def visible_to(self, actor: Actor) -> OrganizationQuerySet:
        from gongzhi.accounts.scope import scope_q

        return self.filter(scope_q(actor, "nodes__path")).distinct()


class Organization(TimeStampedModel):
    """Any organization that acts on the network; it can serve several nodes."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=24, choices=OrganizationKind.choices, db_index=True)
    party_level = models.CharField(_("party level"), max_length=24, choices=PartyLevel.choices, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organization"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    nodes = models.ManyToManyField(Node, verbose_name=_("serves"), related_name="organizations", blank=True)
    categories = models.ManyToManyField(
        MatterCategory, verbose_name=_("categories of matter"), related_name="departments", blank=True
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="party") & ~Q(party_level="")) | (~Q(kind="party") & Q(party_level="")),
                name="organization_party_level_iff_party",
            ),
        ]

    def __str__(self) -> str:
        return self.name
