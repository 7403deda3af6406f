import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ('insight', '0007_department_rollup_by_node'),
        ('territory', '0002_node_developer_unsold'),
    ]

    operations = [
        migrations.CreateModel(
            name='DepartmentDailyRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('received', models.PositiveIntegerField(default=0)),
                ('responded', models.PositiveIntegerField(default=0)),
                ('responded_on_time', models.PositiveIntegerField(default=0)),
                ('resolved', models.PositiveIntegerField(default=0)),
                ('resolved_on_time', models.PositiveIntegerField(default=0)),
                ('rated', models.PositiveIntegerField(default=0)),
                ('satisfied', models.PositiveIntegerField(default=0)),
                ('reopened', models.PositiveIntegerField(default=0)),
                ('escalated', models.PositiveIntegerField(default=0)),
                ('day', models.DateField()),
                ('summoned', models.PositiveIntegerField(default=0)),
                ('reported_in', models.PositiveIntegerField(default=0)),
                ('reported_late', models.PositiveIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'department daily roll-up',
                'verbose_name_plural': 'department daily roll-ups',
            },
        ),
        migrations.CreateModel(
            name='DepartmentWaitRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('bucket', models.PositiveSmallIntegerField()),
                ('count', models.PositiveIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'department report-in roll-up',
                'verbose_name_plural': 'department report-in roll-ups',
            },
        ),
        migrations.AddField(
            model_name='departmentdailyrollup',
            name='department',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, db_constraint=False, db_index=False, related_name='+', to='territory.organization'),
        ),
        migrations.AddField(
            model_name='departmentwaitrollup',
            name='department',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, db_constraint=False, db_index=False, related_name='+', to='territory.organization'),
        ),
        migrations.AddConstraint(
            model_name='departmentdailyrollup',
            constraint=models.UniqueConstraint(fields=('department', 'day'), name='department_daily_rollup_key'),
        ),
        migrations.AddConstraint(
            model_name='departmentwaitrollup',
            constraint=models.UniqueConstraint(fields=('department', 'day', 'bucket'), name='department_wait_rollup_key'),
        ),
    ]
