"""The demo accounts: one per role, all with the password `gongzhi-demo` (demo data only)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.core import clock
from gongzhi.territory.models import Node, NodeKind

DEMO_PASSWORD = "gongzhi-demo"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str  # empty: the name of the resident the account is linked to
    roles: tuple[Role, ...]
    # Where the roles are held: a place of the plan (district, subdistrict, community, grid,
    # building, household) or an organization (department, partner).
    place: str


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("demo-resident", "", (Role.RESIDENT,), "household"),
    DemoAccount("demo-building-leader", "", (Role.BUILDING_LEADER,), "building"),
    DemoAccount("demo-grid-worker", "王丽", (Role.GRID_WORKER,), "grid"),
    DemoAccount("demo-grid-chief", "张强", (Role.GRID_CHIEF,), "grid"),
    DemoAccount("demo-community-staff", "孙静", (Role.COMMUNITY_STAFF,), "community"),
    DemoAccount("demo-secretary", "刘建华", (Role.COMMUNITY_SECRETARY,), "community"),
    DemoAccount("demo-subdistrict", "赵敏", (Role.SUBDISTRICT_STAFF,), "subdistrict"),
    DemoAccount("demo-district-admin", "陈志刚", (Role.DISTRICT_ADMIN,), "district"),
    DemoAccount("demo-department", "李涛", (Role.DEPARTMENT_HANDLER,), "department"),
    DemoAccount("demo-partner", "周晓燕", (Role.PARTNER_STAFF,), "partner"),
    DemoAccount("demo-volunteer", "吴桂兰", (Role.VOLUNTEER, Role.WATCHER), "community"),
    DemoAccount("demo-auditor", "郑洁", (Role.AUDITOR,), "district"),
)


@dataclass(frozen=True)
class DemoAccountRow:
    username: str
    display_name: str
    role: str
    where: str


def _where(assignment: RoleAssignment) -> str:
    """Short place name: the node and its ancestors below the subdistrict (entrances left out)."""
    if assignment.organization is not None:
        return assignment.organization.name
    node = assignment.node
    assert node is not None
    if node.depth <= 3:
        return node.name
    chain = Node.objects.filter(path__in=node.ancestor_paths[2:]).exclude(kind=NodeKind.ENTRANCE)
    return " › ".join(ancestor.name for ancestor in chain.order_by("depth"))


def demo_account_rows() -> list[DemoAccountRow]:
    """The demo accounts present in the database, one row per active role. Reads only."""
    usernames = [account.username for account in DEMO_ACCOUNTS]
    users = {user.username: user for user in User.objects.filter(username__in=usernames)}
    rows = []
    for username in usernames:
        user = users.get(username)
        if user is None:
            continue
        assignments = (
            RoleAssignment.objects.active_on(clock.today())
            .filter(user=user)
            .select_related("node", "organization")
            .order_by("pk")
        )
        for assignment in assignments:
            rows.append(
                DemoAccountRow(username, str(user), str(Role(assignment.role).label), _where(assignment))
            )
    return rows


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def demo_accounts_table(rows: list[DemoAccountRow]) -> str:
    """A plain-text table that lines up Chinese text in a terminal."""
    header = (_("Username"), _("Name"), _("Role"), _("Where"), _("Password"))
    lines = [header] + [(r.username, r.display_name, r.role, r.where, DEMO_PASSWORD) for r in rows]
    widths = [max(_width(line[column]) for line in lines) for column in range(len(header))]
    rendered = [
        "  ".join(_pad(cell, width) for cell, width in zip(line, widths, strict=True)) for line in lines
    ]
    rendered.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in rendered)
