"""Seed the default ticket categories (接诉即办 services) with their handling policies.

Deadlines follow Beijing 12345's published defaults: emergencies 2 hours (a burst pipe gets the
quarter-hour response of 红帽一刻钟), water, power, gas and heating 24 hours, general matters
7 days, complex ones 15 days. Urgent and utility matters count calendar time; general and
complex ones count working hours (7 working days = 7 × 8 office hours). Every category can be
changed in the back office afterwards.

Rerunnable: a category (or question) whose code already exists is left as it is, so running
this again never duplicates rows nor overwrites what the back office changed. Reversing is a
no-op: the categories may already be referenced by tickets. Departments are organizations of a
deployment and are linked in the back office (the demo links its own).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

HOUR = 60
WORKDAY = 8 * HOUR  # office minutes of one working day (09:00–17:00)
CALENDAR, WORKING = "calendar", "working"
GRID, COMMUNITY = 1, 2

# Policies: (response minutes, resolution minutes, counting, urgent)
EMERGENCY = (15, 2 * HOUR, CALENDAR, True)  # 红帽一刻钟: someone at the door within 15 minutes
UTILITY = (2 * HOUR, 24 * HOUR, CALENDAR, False)  # water, power, gas, heating: 24 hours
GENERAL = (WORKDAY, 7 * WORKDAY, WORKING, False)  # general matters: 7 (working) days
COMPLEX = (WORKDAY, 15 * WORKDAY, WORKING, False)  # complex matters: 15 (working) days

LEAK_LOCATIONS = [
    {"key": "kitchen", "name": "厨房"},
    {"key": "bathroom", "name": "卫生间"},
    {"key": "stairwell", "name": "楼道"},
    {"key": "other", "name": "其他"},
]

# code, name, group, kind, default level, policy, keywords, description, questions
# A question: (code, prompt, datatype, required, choices)
CATEGORIES: list[tuple[str, str, str, str, int, tuple[int, int, str, bool], str, str, list[Any]]] = [
    (
        "burst-pipe",
        "爆管漏水",
        "水电气热",
        "help",
        GRID,
        EMERGENCY,
        "爆管 漏水 水管 爆裂 跑水 冒水 渗水 滴水 阀门",
        "水管爆裂、大量漏水，红帽一刻钟上门处置",
        [
            ("floor", "哪一层漏水？", "number", True, []),
            ("location", "漏水位置", "singlevaluelist", False, LEAK_LOCATIONS),
        ],
    ),
    (
        "gas-smell",
        "燃气异味",
        "水电气热",
        "help",
        GRID,
        EMERGENCY,
        "燃气 煤气 天然气 异味 泄漏 漏气 气味",
        "闻到燃气味、疑似泄漏（情况紧急请先关阀开窗并拨打燃气抢修电话）",
        [],
    ),
    (
        "water-outage",
        "停水",
        "水电气热",
        "help",
        GRID,
        UTILITY,
        "停水 没水 断水 水压 水小 自来水 黄水 水质",
        "停水、水压低、水质发黄",
        [],
    ),
    (
        "power-outage",
        "停电",
        "水电气热",
        "help",
        GRID,
        UTILITY,
        "停电 没电 断电 跳闸 电表 电压 闪断",
        "停电、电压不稳、电表故障",
        [],
    ),
    (
        "gas-supply",
        "燃气",
        "水电气热",
        "help",
        GRID,
        UTILITY,
        "燃气 没气 燃气表 充值 灶具 打不着火 燃气卡",
        "燃气供应、燃气表和缴费问题",
        [],
    ),
    (
        "heating-cold",
        "供暖不热",
        "水电气热",
        "help",
        COMMUNITY,
        UTILITY,
        "暖气 供暖 不热 温度低 室温 暖气片 取暖 放气",
        "供暖期室温不达标、暖气片不热",
        [("room_temperature", "室内温度（℃）", "number", False, [])],
    ),
    (
        "stairwell-light",
        "楼道照明",
        "楼院设施",
        "help",
        GRID,
        GENERAL,
        "楼道灯 声控灯 不亮 照明 灯坏 灯泡 黑",
        "楼道灯、声控灯不亮",
        [],
    ),
    (
        "drain-blocked",
        "下水道堵塞",
        "楼院设施",
        "help",
        GRID,
        UTILITY,
        "下水道 堵塞 堵了 返水 冒水 化粪池 污水 管道 马桶",
        "下水道、排污管堵塞返水",
        [],
    ),
    (
        "lift-fault",
        "电梯故障",
        "楼院设施",
        "help",
        COMMUNITY,
        UTILITY,
        "电梯 故障 停运 困人 异响 坏了 维保",
        "电梯停运、异响、维保不到位",
        [],
    ),
    (
        "roof-leak",
        "房屋漏雨",
        "楼院设施",
        "help",
        COMMUNITY,
        COMPLEX,
        "漏雨 屋顶 外墙 防水 墙皮 脱落 渗漏 楼顶",
        "屋顶、外墙渗漏和脱落，需维修基金或专项维修",
        [],
    ),
    (
        "garbage-removal",
        "垃圾清运",
        "环境卫生",
        "help",
        GRID,
        GENERAL,
        "垃圾 清运 垃圾桶 满溢 建筑垃圾 堆放 异味 卫生",
        "垃圾未及时清运、垃圾桶满溢、建筑垃圾乱堆",
        [],
    ),
    (
        "mosquito-control",
        "蚊虫消杀",
        "环境卫生",
        "help",
        GRID,
        GENERAL,
        "蚊子 蚊虫 苍蝇 蟑螂 老鼠 消杀 积水 灭蚊",
        "蚊蝇鼠蟑多，需要消杀",
        [],
    ),
    (
        "greenery",
        "绿化养护",
        "环境卫生",
        "help",
        GRID,
        GENERAL,
        "绿化 树木 修剪 草坪 树枝 毁绿 种菜 枯树",
        "树木修剪、草坪养护、毁绿种菜",
        [],
    ),
    (
        "street-vending",
        "占道经营",
        "市容秩序",
        "help",
        COMMUNITY,
        GENERAL,
        "占道 摆摊 流动摊贩 店外经营 夜市 烧烤 油烟",
        "占道经营、流动摊贩、店外经营",
        [],
    ),
    (
        "parking",
        "停车管理",
        "市容秩序",
        "help",
        GRID,
        GENERAL,
        "停车 乱停 车位 堵路 消防通道 僵尸车 地锁",
        "乱停乱放、占用消防通道、僵尸车、私装地锁",
        [],
    ),
    (
        "noise",
        "噪音扰民",
        "邻里平安",
        "help",
        GRID,
        GENERAL,
        "噪音 吵 扰民 装修 广场舞 施工 夜间 音响",
        "装修、施工、广场舞、商铺音响噪音扰民",
        [],
    ),
    (
        "flying-wire-charging",
        "飞线充电",
        "邻里平安",
        "help",
        GRID,
        GENERAL,
        "飞线 充电 电动车 电瓶车 楼道 私拉电线 插线板",
        "私拉电线给电动车充电、楼道停放电动车",
        [],
    ),
    (
        "neighbour-dispute",
        "邻里纠纷",
        "邻里平安",
        "help",
        COMMUNITY,
        COMPLEX,
        "纠纷 邻居 矛盾 调解 楼上 楼下 占用 公共空间",
        "邻里矛盾纠纷，需要调解",
        [],
    ),
    (
        "social-insurance",
        "社保医保咨询",
        "政务咨询",
        "affairs",
        COMMUNITY,
        GENERAL,
        "社保 医保 养老保险 报销 缴费 退休 参保 居民医保",
        "社保、医保的参保、缴费、报销咨询",
        [],
    ),
    (
        "household-registration",
        "户籍证明咨询",
        "政务咨询",
        "affairs",
        COMMUNITY,
        GENERAL,
        "户口 户籍 证明 身份证 迁移 居住证 落户 开证明",
        "户口迁移、落户、居住证和各类证明的办理咨询",
        [],
    ),
    (
        "elderly-services",
        "养老服务咨询",
        "政务咨询",
        "affairs",
        COMMUNITY,
        GENERAL,
        "养老 助餐 老年卡 高龄补贴 居家养老 助浴 适老化",
        "高龄补贴、老年助餐、居家养老服务咨询",
        [],
    ),
    (
        "suggestion",
        "意见建议",
        "意见建议",
        "voice",
        COMMUNITY,
        COMPLEX,
        "建议 意见 希望 提议 呼吁 改进 增设",
        "对社区治理和公共服务的意见建议",
        [],
    ),
]


def seed_categories(apps: Any, schema_editor: Any = None) -> None:
    Category = apps.get_model("tickets", "Category")
    CategoryQuestion = apps.get_model("tickets", "CategoryQuestion")
    existing = set(Category.objects.values_list("code", flat=True))
    for order, (code, name, group, kind, level, policy, keywords, description, questions) in enumerate(
        CATEGORIES, start=1
    ):
        response, resolution, counting, urgent = policy
        if code in existing:
            category = Category.objects.get(code=code)
        else:
            category = Category.objects.create(
                code=code,
                name=name,
                group=group,
                kind=kind,
                default_level=level,
                response_minutes=response,
                resolution_minutes=resolution,
                counting=counting,
                is_urgent=urgent,
                keywords=keywords,
                description=description,
                order=order * 10,
            )
        asked = set(category.questions.values_list("code", flat=True))
        for number, (q_code, prompt, datatype, required, choices) in enumerate(questions, start=1):
            if q_code not in asked:
                CategoryQuestion.objects.create(
                    category=category,
                    code=q_code,
                    prompt=prompt,
                    datatype=datatype,
                    required=required,
                    choices=choices,
                    order=number,
                )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_tickets_categories_whistles")]

    operations = [migrations.RunPython(seed_categories, migrations.RunPython.noop)]
