from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ('insight', '0006_node_rollups'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='departmentrollup',
            name='department_rollup_key',
        ),
        migrations.RemoveIndex(
            model_name='departmentrollup',
            name='department_rollup_dept_day',
        ),
        migrations.RenameField(
            model_name='departmentrollup',
            old_name='grid',
            new_name='node',
        ),
        migrations.AddConstraint(
            model_name='departmentrollup',
            constraint=models.UniqueConstraint(fields=('node', 'day', 'department'), name='department_rollup_node_key'),
        ),
    ]
