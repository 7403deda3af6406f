import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ('insight', '0005_rollup_mark_rebuild_state'),
        ('territory', '0002_node_developer_unsold'),
    ]

    operations = [
        migrations.CreateModel(
            name='GridPlacement',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ],
            options={
                'verbose_name': 'grid placement',
                'verbose_name_plural': 'grid placements',
            },
        ),
        migrations.CreateModel(
            name='NodeDailyRollup',
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
            ],
            options={
                'verbose_name': 'node daily roll-up',
                'verbose_name_plural': 'node daily roll-ups',
            },
        ),
        migrations.CreateModel(
            name='NodeDimensionRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('dimension', models.CharField(max_length=16)),
                ('value', models.CharField(max_length=32)),
                ('count', models.PositiveIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'node dimension roll-up',
                'verbose_name_plural': 'node dimension roll-ups',
            },
        ),
        migrations.CreateModel(
            name='NodeOpenRollup',
            fields=[
                ('node', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, db_constraint=False, primary_key=True, related_name='+', serialize=False, to='territory.node')),
                ('awaiting_response', models.PositiveIntegerField(default=0)),
                ('awaiting_resolution', models.PositiveIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'open tickets roll-up',
                'verbose_name_plural': 'open tickets roll-ups',
            },
        ),
        migrations.CreateModel(
            name='TermRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('term', models.CharField(max_length=32)),
                ('count', models.PositiveIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'hot-topic word roll-up',
                'verbose_name_plural': 'hot-topic word roll-ups',
            },
        ),
        migrations.AddField(
            model_name='gridplacement',
            name='grid',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, db_constraint=False, db_index=False, related_name='+', to='territory.node'),
        ),
        migrations.AddField(
            model_name='gridplacement',
            name='node',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, db_constraint=False, db_index=False, related_name='+', to='territory.node'),
        ),
        migrations.AddField(
            model_name='nodedailyrollup',
            name='node',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, db_constraint=False, db_index=False, related_name='+', to='territory.node'),
        ),
        migrations.AddField(
            model_name='nodedimensionrollup',
            name='node',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, db_constraint=False, db_index=False, related_name='+', to='territory.node'),
        ),
        migrations.AddField(
            model_name='termrollup',
            name='node',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, db_constraint=False, db_index=False, related_name='+', to='territory.node'),
        ),
        migrations.AddConstraint(
            model_name='gridplacement',
            constraint=models.UniqueConstraint(fields=('grid', 'node'), name='grid_placement_key'),
        ),
        migrations.AddConstraint(
            model_name='nodedailyrollup',
            constraint=models.UniqueConstraint(fields=('node', 'day'), name='node_daily_rollup_key'),
        ),
        migrations.AddConstraint(
            model_name='nodedimensionrollup',
            constraint=models.UniqueConstraint(fields=('node', 'day', 'dimension', 'value'), name='node_dimension_rollup_key'),
        ),
        migrations.AddConstraint(
            model_name='termrollup',
            constraint=models.UniqueConstraint(fields=('node', 'day', 'term'), name='term_rollup_key'),
        ),
    ]
