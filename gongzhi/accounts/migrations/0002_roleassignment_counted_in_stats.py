# Schema only: the flag; 0003 fills it.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='roleassignment',
            name='counted_in_stats',
            field=models.BooleanField(default=False, editable=False),
        ),
    ]
