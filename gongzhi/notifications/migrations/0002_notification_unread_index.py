from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_outbox"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("channel", "inbox"), ("read_at__isnull", True)),
                fields=["user"],
                name="notification_unread",
            ),
        ),
    ]
