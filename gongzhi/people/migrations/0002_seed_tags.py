from django.db import migrations

TAGS = [
    ("elderly_alone", "独居老人"),
    ("elderly_empty_nest", "空巢老人"),
    ("elderly_advanced", "高龄老人"),
    ("disabled", "残疾人"),
    ("subsistence", "低保"),
    ("veteran", "退役军人"),
    ("infant_family", "0–3岁婴幼儿家庭"),
]


def seed(apps, schema_editor):
    Tag = apps.get_model("people", "Tag")
    for code, name in TAGS:
        Tag.objects.update_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
