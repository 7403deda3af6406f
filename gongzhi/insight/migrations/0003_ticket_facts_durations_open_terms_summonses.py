from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ('insight', '0002_monthly_report'),
    ]

    operations = [
        migrations.AddField(
            model_name='ticketfacts',
            name='awaiting_resolution',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='ticketfacts',
            name='awaiting_response',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='ticketfacts',
            name='resolve_bucket',
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='ticketfacts',
            name='respond_bucket',
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='ticketfacts',
            name='submitted_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='ticketfacts',
            name='summoned',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='ticketfacts',
            name='summonses',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='ticketfacts',
            name='terms',
            field=models.JSONField(blank=True, default=list),
        ),
    ]
