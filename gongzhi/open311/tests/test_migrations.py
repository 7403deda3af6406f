"""The migration that makes a key's organization required: keys issued without one get a placeholder."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("open311", "0003_open311key_posts_per_minute_positive")]
AFTER = [("open311", "0005_open311key_organization_required")]


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_keys_without_an_organization_are_tied_to_one_placeholder_and_others_stay() -> None:
    old = _migrate(BEFORE)
    key_model = old.get_model("open311", "Open311Key")
    organization_model = old.get_model("territory", "Organization")
    hotline = organization_model.objects.create(code="hotline", name="12345热线", kind="department")
    common = {"created_at": "2026-11-01T00:00:00Z"}
    key_model.objects.create(name="old app", key_hash="a" * 64, prefix="aaaaaaaa", **common)
    key_model.objects.create(name="old kiosk", key_hash="b" * 64, prefix="bbbbbbbb", **common)
    key_model.objects.create(
        name="hotline app", key_hash="c" * 64, prefix="cccccccc", organization=hotline, **common
    )

    new = _migrate(AFTER)

    owners = dict(new.get_model("open311", "Open311Key").objects.values_list("name", "organization__code"))
    assert owners == {
        "old app": "open311-unassigned",
        "old kiosk": "open311-unassigned",
        "hotline app": "hotline",
    }
    placeholder = new.get_model("territory", "Organization").objects.get(code="open311-unassigned")
    assert placeholder.name == "未指定单位的 Open311 客户端"
    # Back and forth again: nothing more changes, no second placeholder.
    _migrate(BEFORE)
    _migrate(AFTER)
    assert new.get_model("territory", "Organization").objects.filter(code__startswith="open311").count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_without_such_keys_no_placeholder_is_made() -> None:
    _migrate(BEFORE)
    new = _migrate(AFTER)
    assert not new.get_model("territory", "Organization").objects.filter(code="open311-unassigned").exists()
