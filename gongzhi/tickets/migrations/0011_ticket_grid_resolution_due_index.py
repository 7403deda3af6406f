from django.db import migrations, models

from gongzhi.core.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    # A big live table: the index is built concurrently on PostgreSQL, alone, outside a transaction.
    atomic = False

    dependencies = [
        ("tickets", "0010_ticket_grid_response_due_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("state__in", ["accepted", "in_progress"])),
                fields=["grid", "resolution_due_at"],
                name="ticket_grid_resolution_due",
            ),
        ),
    ]
