# Only the choices of `action` change (a new "lookup"): no SQL on either database.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0002_append_only_triggers'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(choices=[('create', 'Created'), ('update', 'Changed'), ('delete', 'Deleted'), ('move', 'Moved'), ('reveal', 'Revealed personal data'), ('lookup', 'Looked up by ID number'), ('import', 'Imported'), ('export', 'Exported'), ('login', 'Logged in'), ('login_failed', 'Failed login'), ('locked_out', 'Locked out'), ('token', 'API token issued')], db_index=True, max_length=16, verbose_name='action'),
        ),
    ]
