"""Mark the building leaders' assignments counted in NodeStats and recount NodeStats.building_leaders
from them: before, a role counted only if it had started when it was given, and never stopped
counting when it ended. One counted assignment per (user, node), as `stats_rebuild` counts."""

from collections import Counter, defaultdict

from django.db import migrations
from django.db.models import Q
from django.utils import timezone

STEP = 4  # territory.Node.steplen
BATCH = 500


def _batches(items, size=BATCH):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def count_active_building_leaders(apps, schema_editor):
    RoleAssignment = apps.get_model("accounts", "RoleAssignment")
    NodeStats = apps.get_model("territory", "NodeStats")
    today = timezone.localdate()
    active = (
        RoleAssignment.objects.filter(role="building_leader", node__isnull=False, starts_on__lte=today)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .order_by("pk")
        .values_list("pk", "user_id", "node_id", "node__path")
    )
    counted, seen, totals = [], set(), Counter()
    for pk, user_id, node_id, path in active.iterator():
        if (user_id, node_id) in seen:
            continue
        seen.add((user_id, node_id))
        counted.append(pk)
        for end in range(STEP, len(path) + 1, STEP):
            totals[path[:end]] += 1
    RoleAssignment.objects.filter(counted_in_stats=True).update(counted_in_stats=False)
    for batch in _batches(counted):
        RoleAssignment.objects.filter(pk__in=batch).update(counted_in_stats=True)
    NodeStats.objects.exclude(building_leaders=0).update(building_leaders=0)
    by_value = defaultdict(list)
    for path, value in totals.items():
        by_value[value].append(path)
    for value, paths in by_value.items():
        for batch in _batches(paths):
            NodeStats.objects.filter(node__path__in=batch).update(building_leaders=value)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roleassignment_counted_in_stats"),
        ("territory", "0002_node_developer_unsold"),
    ]

    operations = [
        migrations.RunPython(count_active_building_leaders, migrations.RunPython.noop, elidable=True),
    ]
