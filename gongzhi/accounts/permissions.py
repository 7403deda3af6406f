"""What each role may do. Scope (where) comes from the node a role is held on; this says what."""

from __future__ import annotations

from enum import StrEnum

from gongzhi.accounts.models import Role


class Perm(StrEnum):
    VIEW_NETWORK = "view_network"  # see nodes, counts and organizations in scope
    VIEW_PEOPLE = "view_people"  # see (masked) residents and households in scope
    REVEAL_PERSONAL_DATA = "reveal_personal_data"  # unmask a phone or ID number, with a reason
    EDIT_PEOPLE = "edit_people"
    EDIT_NETWORK = "edit_network"  # add, move, rename nodes and organizations
    IMPORT_DATA = "import_data"  # xlsx imports and exports
    MANAGE_ROLES = "manage_roles"
    VIEW_AUDIT = "view_audit"
    VIEW_HEALTH_NOTES = "view_health_notes"
    VIEW_TICKETS = "view_tickets"  # see tickets whose address is in scope
    HANDLE_TICKETS = "handle_tickets"  # accept, resolve, reject, merge, enter tickets at their level
    WHISTLE = "whistle"  # summon departments (吹哨) and confirm their work
    MANAGE_CATEGORIES = "manage_categories"  # ticket categories and their deadlines
    RUN_SURVEYS = "run_surveys"  # prepare and run opinion surveys; enter paper answers
    RUN_MEETINGS = "run_meetings"  # convene meetings, sign in attendees, record minutes and resolutions
    RUN_VOTES = "run_votes"  # prepare, open and close owners' votes; enter paper and proxy ballots


_STAFF_READ = {Perm.VIEW_NETWORK, Perm.VIEW_PEOPLE, Perm.VIEW_TICKETS}
_STAFF_WORK = _STAFF_READ | {
    Perm.REVEAL_PERSONAL_DATA,
    Perm.EDIT_PEOPLE,
    Perm.HANDLE_TICKETS,
    Perm.WHISTLE,
    Perm.RUN_SURVEYS,
    Perm.RUN_MEETINGS,
}
_COMMUNITY = _STAFF_WORK | {Perm.EDIT_NETWORK, Perm.IMPORT_DATA, Perm.VIEW_HEALTH_NOTES, Perm.RUN_VOTES}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.RESIDENT: frozenset(),
    Role.BUILDING_LEADER: frozenset({Perm.VIEW_NETWORK, Perm.VIEW_PEOPLE, Perm.VIEW_TICKETS}),
    Role.GRID_WORKER: frozenset(_STAFF_WORK | {Perm.VIEW_HEALTH_NOTES}),
    Role.GRID_CHIEF: frozenset(_STAFF_WORK | {Perm.VIEW_HEALTH_NOTES}),
    Role.COMMUNITY_STAFF: frozenset(_COMMUNITY),
    Role.COMMUNITY_SECRETARY: frozenset(_COMMUNITY | {Perm.MANAGE_ROLES}),
    Role.SUBDISTRICT_STAFF: frozenset(_STAFF_WORK | {Perm.EDIT_NETWORK, Perm.IMPORT_DATA, Perm.MANAGE_ROLES}),
    Role.DISTRICT_ADMIN: frozenset(_COMMUNITY | {Perm.MANAGE_ROLES, Perm.VIEW_AUDIT, Perm.MANAGE_CATEGORIES}),
    Role.DEPARTMENT_HANDLER: frozenset({Perm.VIEW_NETWORK}),
    Role.PARTNER_STAFF: frozenset({Perm.VIEW_NETWORK}),
    Role.VOLUNTEER: frozenset(),
    Role.WATCHER: frozenset(),
    Role.AUDITOR: frozenset({Perm.VIEW_NETWORK, Perm.VIEW_AUDIT, Perm.VIEW_TICKETS}),
}

# Roles whose holders use the staff web; others (residents, volunteers, watchers) use the
# resident pages of later issues.
STAFF_ROLES = frozenset(role for role, perms in ROLE_PERMISSIONS.items() if Perm.VIEW_NETWORK in perms)
