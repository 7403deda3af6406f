"""Open311 keys: issued (hash only) by a superuser or the CLI, shown once, revoked at once."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.audit.models import AuditEntry
from gongzhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.testing import PASSWORD, SmallTree, make_user, superactor
from gongzhi.open311.models import Open311Key
from gongzhi.open311.services import (
    open311_key_authenticate,
    open311_key_issue,
    open311_key_revoke,
    open311_key_update,
)
from gongzhi.territory.models import Organization, OrganizationKind

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def organization(db: object) -> Organization:
    return Organization.objects.create(
        code="app-12345", name="12345热线", kind=OrganizationKind.CO_BUILDING_UNIT
    )


def test_only_the_hash_and_a_prefix_are_stored(organization: Organization) -> None:
    issued = open311_key_issue(actor=superactor(), name="热线 app", organization_id=organization.pk)
    key = Open311Key.objects.get()
    assert key.key_hash == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert issued.secret.startswith("o311_") and key.prefix == issued.secret[5:13]
    assert issued.secret not in str(Open311Key.objects.values().get())
    assert (key.organization, key.name, key.revoked_at, key.last_used_at) == (
        organization,
        "热线 app",
        None,
        None,
    )
    assert open311_key_authenticate(issued.secret) == key
    assert AuditEntry.objects.filter(target_type="open311.open311key", target_id=str(key.pk)).count() == 1


def test_a_revoked_key_no_longer_authenticates(organization: Organization) -> None:
    issued = open311_key_issue(actor=None, name="app", organization_id=organization.pk)
    first = open311_key_revoke(actor=None, key_id=issued.key.pk).revoked_at
    assert first is not None
    assert open311_key_revoke(actor=None, key_id=issued.key.pk).revoked_at == first  # twice: no change
    assert open311_key_authenticate(issued.secret) is None


def test_only_a_superuser_manages_keys(organization: Organization, tree: SmallTree) -> None:
    secretary = resolve_actor(make_user(role=Role.DISTRICT_ADMIN, node=tree.district))
    with pytest.raises(PermissionDenied):
        open311_key_issue(actor=secretary, name="app", organization_id=organization.pk)
    issued = open311_key_issue(actor=None, name="app", organization_id=organization.pk)
    with pytest.raises(PermissionDenied):
        open311_key_update(
            actor=secretary, key_id=issued.key.pk, organization_id=organization.pk, posts_per_minute=1
        )
    with pytest.raises(PermissionDenied):
        open311_key_revoke(actor=secretary, key_id=issued.key.pk)
    key = Open311Key.objects.get()
    assert (key.posts_per_minute, key.revoked_at) == (None, None)


def test_a_key_must_name_its_organization(organization: Organization) -> None:
    with translation.override("en"), pytest.raises(ValidationFailed) as refused:
        open311_key_issue(actor=None, name="app", organization_id=None)
    assert refused.value.extra["fields"]["organization"] == (
        "Name the organization that runs the client: it answers for what the key posts."
    )
    with pytest.raises(NotFound):
        open311_key_issue(actor=None, name="app", organization_id=organization.pk + 100)
    assert not Open311Key.objects.exists()


@pytest.mark.parametrize("posts", [0, -1, 6001])
def test_a_key_s_own_rate_limit_is_a_sane_number(organization: Organization, posts: int) -> None:
    with pytest.raises(ValidationFailed):
        open311_key_issue(actor=None, name="app", organization_id=organization.pk, posts_per_minute=posts)
    assert not Open311Key.objects.exists()


def test_a_key_moves_to_another_organization_and_changes_its_limit_audited(
    organization: Organization,
) -> None:
    issued = open311_key_issue(actor=None, name="app", organization_id=organization.pk)
    other = Organization.objects.create(code="hotline", name="12345", kind=OrganizationKind.DEPARTMENT)

    key = open311_key_update(
        actor=superactor(), key_id=issued.key.pk, organization_id=other.pk, posts_per_minute=120
    )

    assert (key.organization, key.posts_per_minute) == (other, 120)
    assert open311_key_authenticate(issued.secret) == key  # the same secret still works
    entry = AuditEntry.objects.get(target_type="open311.open311key", action="update")
    assert entry.changes == {"organization": [organization.pk, other.pk], "posts_per_minute": [None, 120]}
    # Saving the same values again records nothing.
    open311_key_update(actor=None, key_id=key.pk, organization_id=other.pk, posts_per_minute=120)
    assert AuditEntry.objects.filter(target_type="open311.open311key", action="update").count() == 1


def test_the_command_prints_the_key_alone_on_its_last_line(organization: Organization) -> None:
    out = StringIO()
    call_command("open311_key", "热线 app", "--organization", "app-12345", stdout=out)
    last = out.getvalue().strip().splitlines()[-1]
    assert last.startswith("o311_") and " " not in last
    key = open311_key_authenticate(last)
    assert key is not None and key.organization == organization and key.name == "热线 app"


def test_the_command_sets_the_key_s_own_rate_limit(organization: Organization) -> None:
    out = StringIO()
    call_command("open311_key", "app", "--organization", "app-12345", "--posts-per-minute", "300", stdout=out)
    key = open311_key_authenticate(out.getvalue().strip().splitlines()[-1])
    assert key is not None and key.posts_per_minute == 300


def test_the_command_refuses_an_unknown_or_missing_organization(db: object) -> None:
    with pytest.raises(CommandError, match="NOPE"):
        call_command("open311_key", "app", "--organization", "NOPE", stdout=StringIO())
    with pytest.raises(CommandError, match="--organization"):
        call_command("open311_key", "app", stdout=StringIO())
    assert not Open311Key.objects.exists()


def test_the_console_script_prints_the_key_on_its_last_line(tmp_path: Path) -> None:
    """`gongzhi open311-key NAME`, as an operator types it, against a fresh SQLite database."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GONGZHI_DEBUG": "1",
        "GONGZHI_VAR_DIR": str(tmp_path),
        "GONGZHI_LOCMEM_CACHE": "1",
    }
    gongzhi = str(Path(sys.executable).parent / "gongzhi")
    migrate = subprocess.run([gongzhi, "migrate"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert migrate.returncode == 0, migrate.stderr
    create = "from gongzhi.territory.models import Organization as O; O.objects.create(code='app-1', name='热线', kind='department')"
    made = subprocess.run(
        [gongzhi, "manage", "shell", "-c", create], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert made.returncode == 0, made.stderr
    result = subprocess.run(
        [gongzhi, "open311-key", "hotline app", "--organization", "app-1"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) >= 2 and lines[-1].startswith("o311_") and lines[-1] == lines[-1].strip()
    unnamed = subprocess.run([gongzhi, "open311-key", "x"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert unnamed.returncode != 0 and "--organization" in unnamed.stderr and "o311_" not in unnamed.stdout
    refused = subprocess.run(
        [gongzhi, "open311-key", "x", "--organization", "NOPE"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert refused.returncode == 1 and "NOPE" in refused.stderr and "o311_" not in refused.stdout


def test_the_admin_shows_a_new_key_once_and_revokes(client: Client, organization: Organization) -> None:
    superactor()
    assert client.login(username="root", password=PASSWORD)
    response = client.post(
        reverse("admin:open311_open311key_add"),
        {"name": "热线 app", "organization": organization.pk, "posts_per_minute": ""},
    )
    assert response.status_code == 200
    key = Open311Key.objects.get()
    assert (key.organization, key.posts_per_minute) == (organization, None)
    html = response.content.decode()
    secret = html.split('<code id="open311-key"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    assert open311_key_authenticate(secret) == key and key.created_by is not None
    # Never again: neither on the list nor on the key's page.
    assert secret not in client.get(reverse("admin:open311_open311key_changelist")).content.decode()
    assert (
        secret not in client.get(reverse("admin:open311_open311key_change", args=[key.pk])).content.decode()
    )
    client.post(
        reverse("admin:open311_open311key_changelist"),
        {"action": "revoke", ACTION_CHECKBOX_NAME: [key.pk]},
    )
    key.refresh_from_db()
    assert key.revoked_at is not None and open311_key_authenticate(secret) is None


def test_the_admin_needs_an_organization_for_a_new_key(client: Client, organization: Organization) -> None:
    superactor()
    assert client.login(username="root", password=PASSWORD)
    response = client.post(reverse("admin:open311_open311key_add"), {"name": "热线 app", "organization": ""})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["organization"]
    assert not Open311Key.objects.exists()


def test_the_admin_moves_a_key_and_sets_its_limit_but_not_its_name(
    client: Client, organization: Organization
) -> None:
    issued = open311_key_issue(actor=None, name="热线 app", organization_id=organization.pk)
    other = Organization.objects.create(code="hotline", name="12345", kind=OrganizationKind.DEPARTMENT)
    superactor()
    assert client.login(username="root", password=PASSWORD)

    response = client.post(
        reverse("admin:open311_open311key_change", args=[issued.key.pk]),
        {"name": "renamed", "organization": other.pk, "posts_per_minute": "120"},
    )

    assert response.status_code == 302
    key = Open311Key.objects.get()
    assert (key.name, key.organization, key.posts_per_minute) == ("热线 app", other, 120)
    assert key.key_hash == issued.key.key_hash
    assert AuditEntry.objects.filter(target_type="open311.open311key", action="update").count() == 1


def test_staff_who_are_not_superusers_cannot_reach_keys(
    client: Client, organization: Organization, tree: SmallTree
) -> None:
    user = make_user("staffer", role=Role.DISTRICT_ADMIN, node=tree.district)
    user.is_staff = True
    user.save()
    assert client.login(username="staffer", password=PASSWORD)
    assert client.get(reverse("admin:open311_open311key_changelist")).status_code == 403
    assert client.post(reverse("admin:open311_open311key_add"), {"name": "x"}).status_code == 403
    assert not Open311Key.objects.exists()
