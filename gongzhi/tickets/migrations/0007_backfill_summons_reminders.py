"""Give the summonses written before reminders repeated their count and their next reminder.

Until now a department late to report in was reminded once (`reminded_at`); now it is reminded at
its deadline and then once every report-in period until it reports in, each reminder counted on
the summons. Here, for each summons: `reminders` is 1 if it was reminded, and a summons still
waiting for its report-in gets `remind_at`: its deadline if it was never reminded, else one
report-in period (the setting in force, calendar time) after its reminder.

Rerunnable: only summonses without a count or a next reminder yet change. Reversing is a no-op:
the previous schema ignores the two columns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import migrations
from django.db.models import F

BATCH = 2000


def schedule_reminders(apps: Any, schema_editor: Any) -> None:
    summons_model = apps.get_model("tickets", "Summons")
    summons_model.objects.filter(reminded_at__isnull=False, reminders=0).update(reminders=1)
    summons_model.objects.filter(
        reported_at__isnull=True, reminded_at__isnull=True, remind_at__isnull=True
    ).update(remind_at=F("due_at"))
    period = dt.timedelta(minutes=settings.TICKET_REPORT_IN_MINUTES)
    waiting = summons_model.objects.filter(
        reported_at__isnull=True, reminded_at__isnull=False, remind_at__isnull=True
    ).only("pk", "reminded_at")
    batch = []
    for summons in waiting.iterator(chunk_size=BATCH):
        summons.remind_at = summons.reminded_at + period
        batch.append(summons)
        if len(batch) == BATCH:
            summons_model.objects.bulk_update(batch, ["remind_at"])
            batch = []
    summons_model.objects.bulk_update(batch, ["remind_at"])


class Migration(migrations.Migration):
    dependencies = [("tickets", "0006_summons_remind_at")]

    operations = [migrations.RunPython(schedule_reminders, migrations.RunPython.noop)]
