from decimal import Decimal

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ('insight', '0008_department_daily_and_wait_rollups'),
    ]

    operations = [
        migrations.CreateModel(
            name='RateTarget',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('level', models.CharField(choices=[('grid', 'Grid'), ('community', 'Community'), ('subdistrict', 'Subdistrict'), ('district', 'District'), ('department', 'Department')], max_length=16, verbose_name='level')),
                ('rate', models.CharField(choices=[('response', 'Response rate'), ('resolution', 'Resolution rate'), ('resolution_on_time', 'On-time resolution rate'), ('satisfaction', 'Satisfaction rate')], max_length=24, verbose_name='rate')),
                ('percent', models.DecimalField(decimal_places=1, max_digits=4, validators=[django.core.validators.MinValueValidator(Decimal('0')), django.core.validators.MaxValueValidator(Decimal('100'))], verbose_name='target (%)')),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'verbose_name': 'rate target',
                'verbose_name_plural': 'rate targets',
                'ordering': ['level', 'rate'],
            },
        ),
        migrations.AddConstraint(
            model_name='ratetarget',
            constraint=models.UniqueConstraint(fields=('level', 'rate'), name='rate_target_level_rate'),
        ),
        migrations.AddConstraint(
            model_name='ratetarget',
            constraint=models.CheckConstraint(condition=models.Q(('percent__gte', 0), ('percent__lte', 100)), name='rate_target_percent_range'),
        ),
    ]
