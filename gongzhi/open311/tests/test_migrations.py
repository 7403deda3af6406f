"""The migration that makes a key's organization required: keys issued without one get a placeholder.

The data migration's function runs on rows as they were before (no organization), through the
app registry (the columns it reads and writes are the same today): no schema migration back and
forth, which would need a transactional test that empties the migrations' rows for the next ones.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.db import connection

from gongzhi.open311.models import Open311Key
from gongzhi.territory.models import Organization, OrganizationKind

backfill = importlib.import_module("gongzhi.open311.migrations.0004_backfill_open311key_organization")

pytestmark = pytest.mark.django_db


def _keys(*names: str) -> None:
    """Keys as the migration finds them: those named "old …" written before the organization was
    required. Today's NOT NULL is lifted first (PostgreSQL alters a table inside the test's
    transaction, which rolls it back); SQLite cannot lift it in place."""
    if any(name.startswith("old ") for name in names):
        if connection.vendor != "postgresql":
            pytest.skip("SQLite cannot lift a NOT NULL column in place; the PostgreSQL run covers this")
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE open311_open311key ALTER COLUMN organization_id DROP NOT NULL")
    hotline = Organization.objects.create(code="hotline", name="12345热线", kind=OrganizationKind.DEPARTMENT)
    for number, name in enumerate(names):
        Open311Key.objects.create(
            name=name,
            key_hash=str(number) * 64,
            prefix=str(number) * 8,
            organization=None if name.startswith("old ") else hotline,
            created_at="2026-11-01T00:00:00Z",
        )


def test_keys_without_an_organization_are_tied_to_one_placeholder_and_others_stay(db: Any) -> None:
    _keys("old app", "old kiosk", "hotline app")

    backfill.assign_placeholder(apps, None)
    backfill.assign_placeholder(apps, None)  # rerunnable: nothing more changes

    owners = dict(Open311Key.objects.values_list("name", "organization__code"))
    assert owners == {
        "old app": "open311-unassigned",
        "old kiosk": "open311-unassigned",
        "hotline app": "hotline",
    }
    placeholder = Organization.objects.get(code="open311-unassigned")
    assert (placeholder.name, placeholder.kind) == ("未指定单位的 Open311 客户端", "co_building_unit")


def test_without_such_keys_no_placeholder_is_made(db: Any) -> None:
    _keys("hotline app")
    backfill.assign_placeholder(apps, None)
    assert not Organization.objects.filter(code="open311-unassigned").exists()
