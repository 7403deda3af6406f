from django.db import migrations, models

from gongzhi.core.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    # A big table (one row per ticket): the index is built concurrently on PostgreSQL, alone.
    atomic = False

    dependencies = [
        ('insight', '0003_ticket_facts_durations_open_terms_summonses'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='ticketfacts',
            index=models.Index(fields=['grid', 'day'], name='ticket_facts_grid_day'),
        ),
    ]
