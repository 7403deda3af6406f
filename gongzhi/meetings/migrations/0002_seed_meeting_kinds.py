from django.db import migrations

KINDS = [
    ("doorstep", "小马扎议事会", "在楼前屋后、居民家门口议事", 10),
    ("residents", "居民议事会", "居民代表议定社区公共事务", 20),
    ("building-leaders", "楼长见面会", "每月一次，楼栋长反映民情、领办事项", 30),
    ("four-in-one", "四位一体联席会", "社区、业委会、物业、居民代表共商", 40),
    ("listening", "民情恳谈会", "面对面听取居民意见", 50),
    ("reception-day", "书记+物业经理接待日", "社区书记与物业经理共同接待居民", 60),
]


def seed(apps, schema_editor):
    MeetingKind = apps.get_model("meetings", "MeetingKind")
    for code, name, description, order in KINDS:
        MeetingKind.objects.get_or_create(code=code, defaults={"name": name, "description": description, "order": order})


class Migration(migrations.Migration):
    dependencies = [("meetings", "0001_meetings_projects")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
