"""Minutes typed as plain text were stored with their line breaks as bare newlines, which HTML
collapses: give them the paragraphs and <br> that minutes_html now writes. Minutes with block tags
are left alone. Reverse: nothing to undo (the text is unchanged, only its lines are marked)."""

import re

from django.db import migrations

BLOCK_TAG = re.compile(r"<\s*/?\s*(p|br|ul|ol|li|h3|h4|blockquote|table|tr|td|th)\b", re.IGNORECASE)
BLANK_LINES = re.compile(r"\n\s*\n")


def paragraphs(stored: str) -> str:
    # `stored` was sanitized by nh3 already (text escaped, only inline tags left): adding <p> and
    # <br> around its lines keeps it safe.
    text = stored.replace("\r\n", "\n").replace("\r", "\n").strip()
    parts = [p.strip() for p in BLANK_LINES.split(text) if p.strip()]
    return "\n".join("<p>" + "<br>\n".join(line.rstrip() for line in p.split("\n")) + "</p>" for p in parts)


def mark_lines(apps, schema_editor):
    Meeting = apps.get_model("meetings", "Meeting")
    changed = []
    for meeting in Meeting.objects.exclude(minutes="").only("pk", "minutes").iterator(chunk_size=500):
        if "\n" in meeting.minutes.strip() and not BLOCK_TAG.search(meeting.minutes):
            meeting.minutes = paragraphs(meeting.minutes)
            changed.append(meeting)
        if len(changed) >= 500:
            Meeting.objects.bulk_update(changed, ["minutes"])
            changed = []
    Meeting.objects.bulk_update(changed, ["minutes"])


class Migration(migrations.Migration):
    dependencies = [("meetings", "0004_minutes_revision")]

    operations = [migrations.RunPython(mark_lines, migrations.RunPython.noop)]
