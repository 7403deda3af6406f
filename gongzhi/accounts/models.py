"""Users, the roles they hold on nodes or organizations, API tokens and login attempts."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import TimeStampedModel


class User(AbstractUser):
    """A login. May be linked to a Person of the network (a resident, a party member...)."""

    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    person = models.OneToOneField(
        "people.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="user",
    )

    def __str__(self) -> str:
        return self.display_name or self.username


class Role(models.TextChoices):
    RESIDENT = "resident", _("Resident")  # 居民
    BUILDING_LEADER = "building_leader", _("Building leader")  # 楼栋长
    GRID_WORKER = "grid_worker", _("Grid worker")  # 网格员
    GRID_CHIEF = "grid_chief", _("Grid chief")  # 网格长
    COMMUNITY_STAFF = "community_staff", _("Community staff")  # 社区工作者
    COMMUNITY_SECRETARY = "community_secretary", _("Community secretary")  # 社区书记
    SUBDISTRICT_STAFF = "subdistrict_staff", _("Subdistrict staff")  # 街道工作人员
    DISTRICT_ADMIN = "district_admin", _("District administrator")  # 区级管理员
    DEPARTMENT_HANDLER = "department_handler", _("Department handler")  # 部门承办人
    PARTNER_STAFF = "partner_staff", _("Partner staff")  # 共建单位/社会组织人员
    VOLUNTEER = "volunteer", _("Volunteer")  # 志愿者
    WATCHER = "watcher", _("Watcher")  # 结对关爱人
    AUDITOR = "auditor", _("Auditor")  # 审计员


class RoleAssignmentQuerySet(models.QuerySet["RoleAssignment"]):
    def active_on(self, day: object) -> RoleAssignmentQuerySet:
        return self.filter(Q(starts_on__lte=day) & (Q(ends_on__isnull=True) | Q(ends_on__gte=day)))


class RoleAssignment(TimeStampedModel):
    """A role held by a user on a territory node or on an organization, for a period."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    node = models.ForeignKey(
        "territory.Node",
        verbose_name=_("node"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    organization = models.ForeignKey(
        "territory.Organization",
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    starts_on = models.DateField(_("starts on"))
    # Inclusive: the role is still held on this day.
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    # Whether NodeStats.building_leaders of the node's ancestors counts this assignment now.
    # Kept equal to "a building leader's active assignment, one per (user, node)" by
    # `building_leader_counts_sync` (at each write and hourly, as dates come and pass).
    counted_in_stats = models.BooleanField(default=False, editable=False)

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.CheckConstraint(
                condition=(Q(node__isnull=False) & Q(organization__isnull=True))
                | (Q(node__isnull=True) & Q(organization__isnull=False)),
                name="role_assignment_node_xor_organization",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="role_assignment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.node or self.organization}"


class ApiToken(TimeStampedModel):
    """A per-user bearer token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")


class LoginAttempt(models.Model):
    """One try to log in (web or API token). Failures in a window lock the username."""

    username = models.CharField(max_length=150)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    succeeded = models.BooleanField()
    at = models.DateTimeField()

    class Meta:
        # Used by the lockout check: recent attempts of one username, newest first.
        indexes = [models.Index(fields=["username", "-at"], name="login_attempt_user_at")]

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M} {'ok' if self.succeeded else 'failed'}"
