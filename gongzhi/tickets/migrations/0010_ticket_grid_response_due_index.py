from django.db import migrations, models

from gongzhi.core.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    # A big live table: the index is built concurrently on PostgreSQL, alone, outside a transaction.
    atomic = False

    dependencies = [
        ("tickets", "0009_ticket_public_outcome"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("state__in", ["submitted", "reopened"])),
                fields=["grid", "response_due_at"],
                name="ticket_grid_response_due",
            ),
        ),
    ]
