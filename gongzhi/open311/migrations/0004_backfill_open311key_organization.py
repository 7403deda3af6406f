"""Tie every Open311 key issued without an organization to one placeholder organization.

A key must name the organization that runs its client and answers for what it posts (the next
migration makes the column required). Keys issued before that was required are given the
organization "未指定单位的 Open311 客户端" (code `open311-unassigned`), created only when such a key
exists: the back office lists them under it, and a superuser moves each key to its real
organization there (changing a key's organization is allowed and audited; its secret stays).
A shared placeholder rather than one invented organization per key: the names of the clients'
real organizations are not known here, and one row is easy to find and empty out.

Rerunnable (the placeholder is looked up by its code; only keys still without an organization
change). Reversing leaves the keys where they are: a key with an organization is valid before too.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

PLACEHOLDER_CODE = "open311-unassigned"
PLACEHOLDER_NAME = "未指定单位的 Open311 客户端"


def assign_placeholder(apps: Any, schema_editor: Any) -> None:
    key_model = apps.get_model("open311", "Open311Key")
    organization_model = apps.get_model("territory", "Organization")
    orphans = key_model.objects.filter(organization__isnull=True)
    if not orphans.exists():
        return
    placeholder, _created = organization_model.objects.get_or_create(
        code=PLACEHOLDER_CODE, defaults={"name": PLACEHOLDER_NAME, "kind": "co_building_unit"}
    )
    orphans.update(organization=placeholder)


class Migration(migrations.Migration):
    dependencies = [
        ("open311", "0003_open311key_posts_per_minute_positive"),
        ("territory", "0002_node_developer_unsold"),
    ]

    operations = [migrations.RunPython(assign_placeholder, migrations.RunPython.noop)]
