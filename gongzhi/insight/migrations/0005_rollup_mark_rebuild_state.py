from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ('insight', '0004_ticket_facts_grid_day_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='rollupmark',
            name='rebuild_heartbeat',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='rollupmark',
            name='rebuild_id',
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddField(
            model_name='rollupmark',
            name='terms_from',
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='rollupmark',
            name='version',
            field=models.PositiveSmallIntegerField(default=0),
        ),
    ]
