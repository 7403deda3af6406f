"""A year of resident demands (接诉即办) for the demo district, with their whole histories.

About 100,000 tickets (scaled with the demo) over the 365 days before the build, with seasons:
heating complaints from November to March, leaks, roof leaks and mosquitoes in summer, parking
all year. Every ticket's history is what the services would have written: submitted → accepted
→ (in progress) → resolved → closed (rated by the resident, or closed unrated when the rating
window ended), some rejected, some merged into an earlier duplicate, some reopened one level up
after 不满意, overdue ones escalated by the sweep at their deadline, whistles to departments with
report-ins (late ones reminded). Whatever would happen after the build stays undone, so the
tickets of the last days are still open, a few of them overdue and already escalated.

The rows are written with plain multi-row inserts (`gongzhi.core.bulk`), not one service call
per ticket: the services take ~20 ms per ticket, the demo must build in seconds. The tests
replay every ticket's events through `workflow.TRANSITIONS`.

Times are simulated as whole minutes of Asia/Shanghai local time (no DST) counted from a fixed
epoch; working-hour deadlines use a cumulative table of office minutes per day that gives the
same results as `deadlines.add_working_minutes` for whole-minute starts.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import random
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps as global_apps
from django.conf import settings
from django.db import connection

from gongzhi.accounts.models import User
from gongzhi.core import bulk, personal
from gongzhi.core.demo.plan import AreaPlan, BuildingPlan, DistrictPlan, EntrancePlan, PersonPlan
from gongzhi.territory.models import Node, Organization
from gongzhi.tickets.deadlines import LOCAL, WORK_START, WORKDAY_MINUTES, Counting, is_working_day
from gongzhi.tickets.models import (
    Category,
    EventAction,
    Rating,
    Summons,
    Ticket,
    TicketEvent,
    Whistle,
)
from gongzhi.tickets.workflow import Level, TicketState

TICKETS_PER_YEAR = 100_000  # at scale 1
SEED = 12345
DAY = 24 * 60
HOUR = 60

# The demo departments (data.DEPARTMENTS codes) that answer for each category.
CATEGORY_DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "burst-pipe": ("water",),
    "gas-smell": ("gas",),
    "water-outage": ("water",),
    "power-outage": ("power",),
    "gas-supply": ("gas",),
    "heating-cold": ("heat",),
    "drain-blocked": ("zhujian", "water"),
    "lift-fault": ("market", "zhujian"),
    "roof-leak": ("zhujian",),
    "garbage-removal": ("chengguan",),
    "mosquito-control": ("weijian",),
    "greenery": ("chengguan",),
    "street-vending": ("chengguan", "market"),
    "parking": ("chengguan", "police"),
    "noise": ("chengguan", "police"),
    "flying-wire-charging": ("police",),
    "neighbour-dispute": ("police",),
    "household-registration": ("police",),
    "elderly-services": ("minzheng",),
    "social-insurance": ("weijian",),
}

# Share of the year's tickets (relative) and a factor per month, January first.
_FLAT = (1.0,) * 12
SEASONS: dict[str, tuple[float, tuple[float, ...]]] = {
    "burst-pipe": (4, (1.4, 1.2, 0.8, 0.7, 0.9, 1.5, 2.0, 1.9, 1.1, 0.8, 0.8, 1.3)),
    "gas-smell": (1, (1.4, 1.3, 1.1, 0.9, 0.8, 0.7, 0.7, 0.7, 0.8, 1.0, 1.2, 1.4)),
    "water-outage": (5, (0.9, 0.9, 0.9, 0.9, 1.0, 1.3, 1.6, 1.5, 1.1, 0.9, 0.8, 0.9)),
    "power-outage": (5, (1.2, 1.0, 0.8, 0.7, 0.8, 1.3, 2.0, 1.9, 1.0, 0.7, 0.8, 1.1)),
    "gas-supply": (3, (1.5, 1.3, 1.0, 0.8, 0.7, 0.6, 0.6, 0.6, 0.7, 1.0, 1.4, 1.6)),
    "heating-cold": (10, (2.6, 1.6, 0.7, 0, 0, 0, 0, 0, 0, 0.2, 3.2, 3.4)),
    "stairwell-light": (6, (1.2, 1.2, 1.0, 0.9, 0.8, 0.8, 0.8, 0.8, 0.9, 1.0, 1.2, 1.3)),
    "drain-blocked": (5, (1.0, 1.4, 0.9, 0.9, 0.9, 1.1, 1.4, 1.4, 1.0, 0.9, 0.8, 0.9)),
    "lift-fault": (3, _FLAT),
    "roof-leak": (2, (0.2, 0.2, 0.4, 0.6, 0.9, 1.8, 3.2, 2.8, 1.1, 0.4, 0.2, 0.2)),
    "garbage-removal": (8, (1.1, 1.5, 1.0, 0.9, 0.9, 1.1, 1.2, 1.2, 1.0, 1.1, 0.9, 0.9)),
    "mosquito-control": (6, (0.03, 0.03, 0.1, 0.3, 1.0, 2.2, 3.1, 3.0, 1.8, 0.5, 0.1, 0.03)),
    "greenery": (3, (0.3, 0.3, 1.0, 1.8, 1.8, 1.6, 1.3, 1.2, 1.0, 0.8, 0.6, 0.3)),
    "street-vending": (4, (0.6, 0.6, 0.8, 1.0, 1.2, 1.5, 1.6, 1.6, 1.2, 1.0, 0.7, 0.6)),
    "parking": (12, _FLAT),
    "noise": (8, (0.7, 1.0, 0.8, 0.9, 1.1, 1.3, 1.4, 1.4, 1.1, 1.0, 0.8, 0.7)),
    "flying-wire-charging": (4, (0.8, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.3, 1.1, 1.0, 0.9, 0.8)),
    "neighbour-dispute": (3, _FLAT),
    "social-insurance": (4, (0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.9, 0.9, 1.5, 1.6, 1.6, 1.6)),
    "household-registration": (3, (0.8, 0.8, 0.9, 0.9, 1.0, 1.2, 1.7, 1.6, 1.0, 0.8, 0.7, 0.8)),
    "elderly-services": (3, _FLAT),
    "suggestion": (3, _FLAT),
}
# Matters of shared spaces are addressed to the building, not to a flat.
SHARED_SPACE = frozenset({"greenery", "parking", "street-vending", "garbage-removal", "noise", "suggestion"})
HOURS = (
    0.2,
    0.1,
    0.1,
    0.1,
    0.1,
    0.3,
    0.9,
    2.0,
    3.4,
    4.0,
    3.6,
    3.0,
    2.0,
    2.4,
    3.0,
    3.0,
    2.9,
    2.9,
    3.1,
    3.4,
    3.0,
    2.0,
    1.0,
    0.5,
)
CHANNELS = (("doorplate", 48), ("phone", 18), ("doorstep", 14), ("hall", 8), ("web", 8), ("api", 4))
STAFF_CHANNELS = frozenset({"doorstep", "hall", "phone"})

# Description templates; {place} is the entrance ("3号楼2单元"), {floor} a floor, {when} a time.
WHEN = ("今天早上", "昨天晚上", "刚才", "这两天", "从前天开始", "今天下午", "一早起来", "晚饭后")
SINCE = ("两天了", "一个星期了", "好几天了", "三天了", "半个多月了", "一直这样")
DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "burst-pipe": (
        "{place}{floor}楼{spot}水管爆了，水一直往外冒，已经流到楼道里了，麻烦赶紧来人！",
        "{when}发现{place}{floor}楼{spot}漏水很厉害，楼下天花板也在滴水，总阀关不上。",
        "{place}地下室水管破裂，水已经淹到脚面了，请尽快派人处理。",
        "家里{spot}的水管接头突然喷水，家里只有老人，请帮忙联系维修。",
    ),
    "gas-smell": (
        "{place}楼道里有很重的燃气味，{when}开始闻到的，怕是哪家漏气了。",
        "{place}{floor}楼门口一直有煤气味，敲门没人应，请赶紧派人来看看。",
        "厨房里有股天然气味，已经关了阀门开了窗，请燃气公司来查一下。",
    ),
    "water-outage": (
        "{place}{when}开始停水，也没看到停水通知，什么时候能来水？",
        "{place}水压特别小，{floor}楼以上基本没水，{since}。",
        "{when}放出来的自来水是黄的，有沉淀，不敢喝，请供水公司检测一下。",
        "{place}停水{since}，家里有老人孩子，生活很不方便。",
    ),
    "power-outage": (
        "{place}{when}突然停电了，整个单元都没电，请问什么原因？",
        "{place}电压不稳，灯一闪一闪的，空调开不起来，{since}。",
        "家里跳闸后合不上了，电表箱里有焦糊味，请派电工来看看。",
        "{place}楼道电表箱门坏了，电线裸露在外面，很危险。",
    ),
    "gas-supply": (
        "燃气卡充值后插表没反应，{when}开始没气了，做不了饭。",
        "{place}{floor}楼燃气表显示故障，请燃气公司上门检修。",
        "灶具打不着火，怀疑是燃气压力不够，{since}。",
    ),
    "heating-cold": (
        "{place}{floor}楼暖气不热，室温只有{temp}度，家里老人冻得受不了。",
        "暖气片上面热下面凉，放过气了也不管用，{since}。",
        "{place}整个单元暖气都不太热，请热力公司来测一下室温。",
        "供暖开始{since}，我家暖气还是冰凉的，请尽快处理。",
    ),
    "stairwell-light": (
        "{place}{floor}楼楼道灯不亮了，晚上上下楼黑乎乎的，老人容易摔倒。",
        "{place}的声控灯坏了{since}，拍手也不亮。",
        "{place}楼道灯一直亮着不灭，白天也亮，浪费电。",
    ),
    "drain-blocked": (
        "{place}下水道堵了，一楼地漏往上返水，味道很大。",
        "{place}化粪池满了，污水漫到路面上，{since}。",
        "厨房下水堵塞，疏通了好几次还是不通，怀疑是主管道的问题。",
        "{when}卫生间马桶返水，楼上一冲水我家就冒，请派人疏通主管。",
    ),
    "lift-fault": (
        "{place}电梯{when}坏了，停在{floor}楼不动，家里有老人上不去楼。",
        "{place}电梯运行时有很大的异响，还晃得厉害，担心安全。",
        "{place}电梯{since}停运，物业说在等配件，能不能催一下。",
        "{when}{place}电梯困人，虽然救出来了，但一直没有检修。",
    ),
    "roof-leak": (
        "{place}顶楼屋顶漏雨，一下雨墙上就往下淌水，{since}。",
        "{place}外墙皮大块脱落，掉在楼下人行道上，太危险了。",
        "下大雨后{place}{floor}楼家里墙面渗水发霉，想问能不能用维修基金修屋顶。",
    ),
    "garbage-removal": (
        "{place}旁边的垃圾桶满了{since}没人清运，味道很大。",
        "{place}门口有人堆了很多装修垃圾，占着路，请尽快清走。",
        "{place}楼下垃圾桶周围到处是垃圾，招苍蝇，请安排清理。",
        "小区里的大件垃圾（旧沙发、床垫）堆在{place}边上{since}。",
    ),
    "mosquito-control": (
        "{place}附近蚊子特别多，晚上开不了窗，能不能安排消杀？",
        "{place}地下室有积水，蚊虫孳生，{since}。",
        "{place}楼下绿化带里老鼠多，晚上常看到，请帮忙灭鼠。",
        "楼道里有很多蟑螂，{when}还在垃圾桶边看到老鼠，请统一消杀。",
    ),
    "greenery": (
        "{place}门口的树枝长到窗户上了，挡光还招虫子，请修剪一下。",
        "{place}旁边的绿地被人开垦种菜了，还浇粪水，味道很大。",
        "{place}楼前有一棵枯树，刮风怕倒下来砸到人和车。",
        "小区草坪{since}没人管，杂草都快一人高了。",
    ),
    "street-vending": (
        "{place}对面路口{when}有很多流动摊贩摆摊，堵得车过不去。",
        "{place}附近的烧烤店把桌子摆到人行道上，油烟和噪音到半夜。",
        "小区门口早市占道经营，垃圾遍地，{since}。",
    ),
    "parking": (
        "{place}门口有车乱停，堵住了消防通道，{when}救护车都进不来。",
        "{place}楼下有辆僵尸车停了{since}，落满灰，占着车位。",
        "有人在{place}前面私装地锁，占用公共车位。",
        "{place}车位太少，晚上车停得到处都是，能不能规划一下？",
        "{when}有辆车挡在{place}门口，打电话也联系不上车主。",
    ),
    "noise": (
        "{place}{floor}楼装修，每天中午和晚上也在砸墙，{since}。",
        "{place}楼下广场舞音响声音太大，晚上九点多还在跳。",
        "{place}旁边工地夜间施工，吵得睡不着觉。",
        "楼上住户半夜经常有很大的动静，沟通过没用。",
    ),
    "flying-wire-charging": (
        "{place}{floor}楼有人从窗户拉电线下来给电动车充电，很危险。",
        "{place}楼道里停了好几辆电动车在充电，堵着通道，怕着火。",
        "{when}看到{place}有人用插线板在楼道里给电瓶充电，请管一管。",
    ),
    "neighbour-dispute": (
        "楼上家里漏水把我家天花板泡坏了，协商赔偿谈不拢，请社区调解。",
        "{place}{floor}楼邻居在楼道里堆放杂物，说了几次不听。",
        "邻居家养的狗天天叫，沟通后矛盾越来越大，希望社区出面调解。",
        "{place}有住户把公共楼道圈起来当自家储物间，其他住户有意见。",
    ),
    "social-insurance": (
        "请问今年城乡居民医保在哪里缴费？截止到什么时候？",
        "我母亲退休了，养老保险待遇认证在哪里办理？",
        "异地就医的医保报销需要准备哪些材料？",
        "灵活就业人员怎么参加职工养老保险？",
    ),
    "household-registration": (
        "孩子上学需要开居住证明，请问要带什么材料去哪里办？",
        "想把老人户口迁到我这里，需要哪些手续？",
        "身份证丢了，补办需要回户籍地吗？",
        "请问办理居住证需要多长时间，能在社区代办吗？",
    ),
    "elderly-services": (
        "家里老人八十多岁了，高龄补贴怎么申请？",
        "社区老年食堂助餐怎么报名？对老人有没有优惠？",
        "想给家里做适老化改造（扶手、防滑），有没有补贴政策？",
        "独居老人能不能申请居家养老上门服务？",
    ),
    "suggestion": (
        "建议在{place}附近增设几组健身器材，方便老人锻炼。",
        "希望小区能增加电动车集中充电桩，解决楼道充电的问题。",
        "建议社区文化广场晚上增加照明，现在太暗了。",
        "能不能在小区门口设一个快递柜，老人取快递不方便。",
        "建议定期组织楼长见面会，大家有事好商量。",
    ),
}
SPOTS = ("厨房", "卫生间", "楼道", "阳台")
SPOT_KEYS = {"厨房": "kitchen", "卫生间": "bathroom", "楼道": "stairwell", "阳台": "other"}

RESOLUTION_NOTES: dict[str, tuple[str, ...]] = {
    "burst-pipe": (
        "红帽一刻钟志愿服务队到场关闭阀门，更换破裂管段，已恢复供水。",
        "联系供水公司抢修，已更换阀门并清理积水。",
    ),
    "gas-smell": (
        "燃气公司到场检测，为燃气表接口重新密封，已无泄漏。",
        "检查为灶具软管老化，已更换并告知住户定期检查。",
    ),
    "water-outage": (
        "供水公司抢修主管道后已恢复供水。",
        "更换二次供水加压泵，水压已恢复正常。",
        "管网冲洗后水质检测合格。",
    ),
    "power-outage": ("供电公司更换了单元电缆接头，已恢复供电。", "电工检修电表箱，更换空开，已恢复正常。"),
    "gas-supply": ("燃气公司上门更换燃气表电池并重新写卡，已恢复供气。", "检修调压器后压力恢复正常。"),
    "heating-cold": ("热力公司上门排气并清洗过滤网，室温已达18℃以上。", "调整单元平衡阀，复测室温19℃。"),
    "stairwell-light": ("已更换楼道灯和声控开关。", "网格员联系物业更换了LED灯。"),
    "drain-blocked": ("已疏通主管道，清理了堵塞物。", "联系环卫抽排化粪池，路面已冲洗。"),
    "lift-fault": (
        "维保单位更换了门机配件，电梯已恢复运行并通过检测。",
        "已督促物业和维保单位检修，电梯运行正常。",
    ),
    "roof-leak": ("协调维修基金完成屋面防水修缮。", "已对外墙空鼓部分进行清除和修补。"),
    "garbage-removal": ("已安排环卫车辆清运，垃圾桶已清洗消毒。", "装修垃圾已清运，提醒住户按规定投放。"),
    "mosquito-control": (
        "已组织对楼院进行统一消杀，清理积水点。",
        "在楼道和绿化带投放了灭鼠药并设置警示标识。",
    ),
    "greenery": ("已联系园林工人修剪树枝。", "清理了毁绿种菜区域并补植草坪。"),
    "street-vending": ("城管执法人员劝离摊贩，已恢复通行。", "约谈商户，桌椅已撤回店内。"),
    "parking": ("联系车主挪车，消防通道已畅通。", "僵尸车已由交警拖离。", "拆除了私装地锁，恢复公共车位。"),
    "noise": ("上门沟通，装修户承诺按规定时间施工。", "与广场舞队协商，降低音量并在晚九点前结束。"),
    "flying-wire-charging": ("已拆除飞线，劝导住户到集中充电点充电。", "清理楼道电动车，张贴安全提示。"),
    "neighbour-dispute": ("社区人民调解员组织双方协商，达成调解协议。", "经调解，住户已清理公共楼道杂物。"),
    "social-insurance": ("已电话答复缴费渠道和截止时间。", "已告知所需材料和办理窗口。"),
    "household-registration": ("已告知办理材料和流程，社区可代办居住证明。", "已答复办理地点和所需材料。"),
    "elderly-services": ("已帮助老人提交高龄补贴申请。", "已登记助餐服务，老人可就近用餐。"),
    "suggestion": ("建议已提交社区居民议事会讨论，列入年度办实事项目。", "感谢建议，已纳入小区改造计划。"),
}
REJECTIONS = (
    "属于业主与物业之间的合同纠纷，已告知通过业委会或法律途径解决。",
    "该地址不在本社区管辖范围，已告知居民向所属社区反映。",
    "诉求属于个人私有设施维修，已提供维修服务电话。",
    "重复反映且已依法答复，不再重复受理。",
)
MERGE_NOTES = ("与同一楼栋的诉求为同一件事，合并办理。", "同一问题已有工单在办，合并跟进。")
WHISTLE_NOTES = (
    "需要专业部门到场处置，请按时报到。",
    "超出网格和社区处置能力，请相关部门协同解决。",
    "问题反复出现，请部门到场查明原因。",
)
DEPARTMENT_NOTES = (
    "已派人到场查看，制定处置方案。",
    "已完成现场处置，后续纳入日常巡查。",
    "已安排专业队伍施工，完成修复。",
)
RATING_COMMENTS: dict[str, tuple[str, ...]] = {
    Rating.SATISFIED: ("", "", "谢谢网格员，办得很快！", "很及时，点赞", "服务很好，感谢社区"),
    Rating.BASICALLY_SATISFIED: ("", "解决了，就是时间有点长", "基本满意，希望以后多巡查"),
    Rating.UNSATISFIED: ("问题没有彻底解决，还是老样子", "来看了一眼就走了，没有处理", "过两天又坏了"),
}


@dataclass(frozen=True)
class DemoTicketCounts:
    tickets: int
    events: int
    open: int
    whistles: int


@dataclass
class _Address:
    entrance: int  # node pk
    building: int
    households: list[tuple[int, int, list[PersonPlan]]]  # (node pk, floor, people)
    place: str
    floors: int
    latitude: Decimal
    longitude: Decimal
    grid: int
    levels: dict[int, int]  # level → owner node pk
    labels: dict[int, str]  # level → who acts there, in words
    users: dict[int, int | None]  # level → the demo account acting there, if any


class _Calendar:
    """Minutes since a local midnight; working-hour arithmetic by a cumulative table of days."""

    def __init__(self, epoch: dt.date, days: int) -> None:
        self.epoch = epoch
        self.epoch_utc = dt.datetime.combine(epoch, dt.time(0, 0), tzinfo=LOCAL).astimezone(dt.UTC)
        self.opens = WORK_START.hour * 60 + WORK_START.minute
        self.working = [is_working_day(epoch + dt.timedelta(days=i)) for i in range(days)]
        self.before = [0]  # office minutes before day i
        for working in self.working:
            self.before.append(self.before[-1] + (WORKDAY_MINUTES if working else 0))

    def _offset(self, t: int) -> int:
        day, minute = divmod(t, DAY)
        if not self.working[day]:
            return self.before[day]
        return self.before[day] + min(max(minute - self.opens, 0), WORKDAY_MINUTES)

    def add(self, t: int, minutes: int, counting: str) -> int:
        """Same as deadlines.add_duration for a whole-minute start."""
        if counting != Counting.WORKING:
            return t + minutes
        target = self._offset(t) + minutes
        day = bisect.bisect_left(self.before, target) - 1
        return day * DAY + self.opens + (target - self.before[day])

    def utc(self, t: int | None) -> dt.datetime | None:
        return None if t is None else self.epoch_utc + dt.timedelta(minutes=t)


@dataclass
class _Policy:
    pk: int
    code: str
    kind: str
    level: int
    response: int
    resolution: int
    counting: str
    urgent: bool
    departments: list[tuple[int, str]]  # (organization pk, name)
    questions: set[str]


@dataclass
class _Ticket:
    """A ticket being simulated: its row and its events, until the build's `now`."""

    pk: int
    policy: _Policy
    address: _Address
    submitted: int
    row: dict[str, Any]
    events: list[tuple[Any, ...]] = field(default_factory=list)  # EVENT_COLUMNS
    state: str = TicketState.SUBMITTED
    level: int = Level.GRID
    closed: int | None = None  # when it reached a final state (for merges into it)
    missed: set[str] = field(default_factory=set)  # deadlines overdue in this round ("response", …)


class _Simulator:
    def __init__(
        self,
        *,
        plan: DistrictPlan,
        nodes: dict[str, Node],
        organizations: dict[str, Organization],
        now: dt.datetime,
        count: int,
    ) -> None:
        self.rng = random.Random(SEED)
        self.count = count
        today = now.astimezone(LOCAL).date()
        self.first_day = today - dt.timedelta(days=364)
        epoch = self.first_day - dt.timedelta(days=7)
        self.calendar = _Calendar(epoch, 365 + 7 + 400)
        local_now = now.astimezone(LOCAL)
        self.now = (today - epoch).days * DAY + local_now.hour * 60 + local_now.minute
        self.now_utc = now
        self.rating_window = settings.TICKET_RATING_WINDOW_DAYS * DAY
        self.report_in = settings.TICKET_REPORT_IN_MINUTES
        self.plan = plan
        self.nodes = nodes
        usernames = ("demo-grid-worker", "demo-community-staff", "demo-subdistrict", "demo-resident")
        self.users = dict(User.objects.filter(username__in=usernames).values_list("username", "pk"))
        self.policies = self._policies(organizations)
        self.addresses, weights = self._addresses()
        # Cumulative weights: random.choices recomputes them on every call otherwise.
        self.address_weights = list(itertools.accumulate(weights))
        self.hour_weights = list(itertools.accumulate(HOURS))
        self.channels = [channel for channel, _ in CHANNELS]
        self.channel_weights = list(itertools.accumulate(weight for _, weight in CHANNELS))
        self.key_grid = nodes[plan.key_grid.code].pk
        self.ticket_ids = _Ids(Ticket)
        self.event_ids = _Ids(TicketEvent)
        self.whistle_ids = _Ids(Whistle)
        self.summons_ids = _Ids(Summons)
        self.whistles: list[dict[str, Any]] = []
        self.summonses: list[dict[str, Any]] = []
        self.hashes: dict[str, str] = {}
        self.counts: Counter[str] = Counter()

    # --- set-up ----------------------------------------------------------------------------
    def _policies(self, organizations: dict[str, Organization]) -> dict[str, _Policy]:
        policies = {}
        for category in Category.objects.filter(is_active=True).prefetch_related("questions"):
            departments = [
                (organizations[f"D-{code}"].pk, organizations[f"D-{code}"].name)
                for code in CATEGORY_DEPARTMENTS.get(category.code, ())
                if f"D-{code}" in organizations
            ]
            policies[category.code] = _Policy(
                pk=category.pk,
                code=category.code,
                kind=category.kind,
                level=category.default_level,
                response=category.response_minutes,
                resolution=category.resolution_minutes,
                counting=category.counting,
                urgent=category.is_urgent,
                departments=departments,
                questions={question.code for question in category.questions.all()},
            )
        return policies

    def _addresses(self) -> tuple[list[_Address], list[int]]:
        plan, nodes = self.plan, self.nodes
        key: dict[int, tuple[str, int | None]] = {
            Level.GRID: (plan.key_grid.code, self.users.get("demo-grid-worker")),
            Level.COMMUNITY: (plan.key_community.code, self.users.get("demo-community-staff")),
            Level.SUBDISTRICT: (plan.key_subdistrict.code, self.users.get("demo-subdistrict")),
        }
        addresses, weights = [], []
        for subdistrict in plan.subdistricts:
            for community in subdistrict.communities:
                for grid in community.grids:
                    places: dict[int, AreaPlan] = {
                        Level.GRID: grid,
                        Level.COMMUNITY: community,
                        Level.SUBDISTRICT: subdistrict,
                    }
                    levels = {level: nodes[place.code].pk for level, place in places.items()}
                    labels: dict[int, str] = {
                        Level.GRID: f"{community.name}{grid.name}",
                        Level.COMMUNITY: community.name,
                        Level.SUBDISTRICT: subdistrict.name,
                    }
                    users: dict[int, int | None] = {
                        level: key[level][1] if place.code == key[level][0] else None
                        for level, place in places.items()
                    }
                    for compound in grid.compounds:
                        for building in compound.buildings:
                            prefix = "" if compound.loose else compound.name
                            for entrance in building.entrances:
                                address = self._address(
                                    building, entrance, f"{prefix}{building.name}{entrance.name}"
                                )
                                address.grid, address.levels = levels[Level.GRID], levels
                                address.labels, address.users = labels, users
                                addresses.append(address)
                                weights.append(max(1, len(entrance.households)))
        return addresses, weights

    def _address(self, building: BuildingPlan, entrance: EntrancePlan, place: str) -> _Address:
        households = []
        for household in entrance.households:
            door = household.door_number.rsplit("单元", 1)[-1]
            households.append((self.nodes[household.code].pk, int(door[:-2] or 1), household.people))
        return _Address(
            entrance=self.nodes[entrance.code].pk,
            building=self.nodes[building.code].pk,
            households=households,
            place=place,
            floors=building.floors,
            latitude=building.latitude,
            longitude=building.longitude,
            grid=0,
            levels={},
            labels={},
            users={},
        )

    # --- the year --------------------------------------------------------------------------
    def days(self) -> Iterator[tuple[int, int]]:
        """(day start in minutes, number of tickets submitted that day) for the 365 days."""
        rng = self.rng
        weights = []
        for index in range(365):
            day = self.first_day + dt.timedelta(days=index)
            month = day.month - 1
            load = sum(share * months[month] for share, months in SEASONS.values())
            weekday = 0.8 if day.weekday() >= 5 else 1.0
            weights.append(load * weekday * rng.uniform(0.85, 1.15))
        total = sum(weights)
        start = (self.first_day - self.calendar.epoch).days * DAY
        for index, weight in enumerate(weights):
            expected = self.count * weight / total
            number = int(expected) + (rng.random() < expected - int(expected))
            yield start + index * DAY, number

    def run(self) -> Iterator[_Ticket]:
        rng = self.rng
        codes = [code for code in SEASONS if code in self.policies]
        hours = list(range(24))
        for day_start, number in self.days():
            month = (self.calendar.epoch + dt.timedelta(days=day_start // DAY)).month - 1
            category_weights = [SEASONS[code][0] * SEASONS[code][1][month] for code in codes]
            chosen = rng.choices(codes, category_weights, k=number)
            for code in chosen:
                at = day_start + rng.choices(hours, cum_weights=self.hour_weights)[0] * 60 + rng.randrange(60)
                if at >= self.now:
                    continue
                address = rng.choices(self.addresses, cum_weights=self.address_weights)[0]
                ticket = self._ticket(self.policies[code], address, at)
                self._live(ticket)
                yield ticket
                if rng.random() < 0.025:
                    duplicate = self._duplicate(ticket)
                    if duplicate is not None:
                        yield duplicate

    # --- one ticket ------------------------------------------------------------------------
    def _ticket(
        self, policy: _Policy, address: _Address, at: int, *, channel: str = "", node: int = 0
    ) -> _Ticket:
        rng, calendar = self.rng, self.calendar
        pk = self.ticket_ids.next()
        channel = channel or rng.choices(self.channels, cum_weights=self.channel_weights)[0]
        if policy.kind == "affairs" and channel == "doorplate" and rng.random() < 0.4:
            channel = "hall"
        household_pk, floor, people = rng.choice(address.households) if address.households else (0, 1, [])
        if not node:
            if policy.code in SHARED_SPACE:
                node = address.building
            elif channel == "doorplate" or not household_pk:
                node = address.entrance
            else:
                node = household_pk
        adults = [p for p in people if p.age() >= 18 and p.phone] or [p for p in people if p.age() >= 18]
        person = rng.choice(adults) if adults else None
        anonymous = rng.random() < 0.04
        phone = person.phone if person and rng.random() < 0.93 else ""
        if phone and phone not in self.hashes:
            self.hashes[phone] = personal.lookup_hash(phone)
        level = policy.level
        answers = self._answers(policy, address, floor)
        description = self._description(policy, address, floor, answers)
        staff = channel in STAFF_CHANNELS
        row = {
            "id": pk,
            "number": f"{calendar.epoch + dt.timedelta(days=at // DAY):%Y%m%d}{pk:07d}",
            "follow_token": secrets.token_urlsafe(18),
            "kind": policy.kind,
            "category_id": policy.pk,
            "description": description,
            "answers": answers,
            "channel": channel,
            "node_id": node,
            "grid_id": address.grid,
            "latitude": address.latitude,
            "longitude": address.longitude,
            "reporter_name": "" if anonymous or person is None else person.name,
            "reporter_phone": phone,
            "reporter_phone_hash": self.hashes.get(phone, ""),
            "is_anonymous": anonymous,
            "entered_by_id": address.users[Level.GRID] if staff else None,
            "level": level,
            "owner_node_id": address.levels[level],
            "submitted_at": at,
            "response_due_at": calendar.add(at, policy.response, policy.counting),
            "resolution_due_at": calendar.add(at, policy.resolution, policy.counting),
            "reminders": 0,
            "reopen_count": 0,
            "version": 1,
        }
        ticket = _Ticket(pk=pk, policy=policy, address=address, submitted=at, row=row, level=level)
        actor = address.users[Level.GRID] if staff else None
        self._event(
            ticket,
            at,
            EventAction.SUBMITTED,
            to_state=TicketState.SUBMITTED,
            to_level=level,
            actor=actor,
            label="" if actor else "resident",
            data={"channel": channel, "category": policy.code},
            bump=False,
        )
        return ticket

    def _answers(self, policy: _Policy, address: _Address, floor: int) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        if "floor" in policy.questions:
            answers["floor"] = str(floor)
        if "location" in policy.questions and self.rng.random() < 0.8:
            answers["location"] = self.rng.choice(list(SPOT_KEYS.values()))
        if "room_temperature" in policy.questions and self.rng.random() < 0.6:
            answers["room_temperature"] = str(self.rng.randint(11, 17))
        return answers

    def _description(self, policy: _Policy, address: _Address, floor: int, answers: dict[str, Any]) -> str:
        rng = self.rng
        spot = next((s for s, k in SPOT_KEYS.items() if k == answers.get("location")), rng.choice(SPOTS))
        return rng.choice(DESCRIPTIONS[policy.code]).format(
            place=address.place,
            floor=floor,
            spot=spot,
            when=rng.choice(WHEN),
            since=rng.choice(SINCE),
            temp=answers.get("room_temperature", rng.randint(11, 16)),
        )

    def _event(
        self,
        ticket: _Ticket,
        at: int,
        action: str,
        *,
        from_state: str = "",
        to_state: str = "",
        from_level: int | None = None,
        to_level: int | None = None,
        actor: int | None = None,
        label: str = "",
        note: str = "",
        public: bool = True,
        data: dict[str, Any] | None = None,
        bump: bool = True,
    ) -> None:
        # A tuple in EVENT_COLUMNS order: ~600k of them, dicts cost seconds.
        ticket.events.append(
            (
                self.event_ids.next(),
                ticket.pk,
                at,
                actor,
                label,
                action,
                from_state,
                to_state,
                from_level,
                to_level,
                note,
                public,
                data or {},
            )
        )
        if to_state:
            ticket.state = to_state
        if bump:
            ticket.row["version"] += 1

    def _staff(self, ticket: _Ticket) -> tuple[int | None, str]:
        """Who acts for the level that owns the ticket: a demo account, or the place in words."""
        user = ticket.address.users[ticket.level]
        return user, "" if user else ticket.address.labels[ticket.level]

    def _move(self, ticket: _Ticket, at: int, to: str, action: str, note: str = "", **data: Any) -> None:
        actor, label = self._staff(ticket)
        # As the services record it: the deadline in force and whether it was met (the three rates).
        due_fields: dict[str, str] = {
            EventAction.ACCEPTED: "response_due_at",
            EventAction.RESOLVED: "resolution_due_at",
        }
        due_field = due_fields.get(action)
        if due_field is not None:
            due = ticket.row[due_field]
            stamp = self.calendar.utc(due)
            overdue = "response" if due_field == "response_due_at" else "resolution"
            on_time = overdue not in ticket.missed and (due is None or at <= due)
            data = {**data, "due": stamp.isoformat() if stamp else None, "on_time": on_time}
        self._event(
            ticket,
            at,
            action,
            from_state=ticket.state,
            to_state=to,
            actor=actor,
            label=label,
            note=note,
            data=data,
        )

    def _escalate_until(
        self, ticket: _Ticket, until: int, due_field: str, minutes: int, overdue: str, after: int = 0
    ) -> None:
        """What the sweep did while the ticket waited past `due_field` (before `until` and now).
        The sweep sees a deadline only in the states that wait for it: not before `after`."""
        policy, row = ticket.policy, ticket.row
        while row[due_field] < until and max(row[due_field], after + 1) <= self.now:
            at = max(row[due_field], after + 1)
            if at >= until:
                break
            ticket.missed.add(overdue)
            old = ticket.level
            new = min(old + 1, Level.SUBDISTRICT)
            row[due_field] = self.calendar.add(at, minutes, policy.counting)
            row["reminders"] += 1
            if new != old:
                ticket.level = row["level"] = new
                row["owner_node_id"] = ticket.address.levels[new]
                row["assignee_id"] = None
            self._event(
                ticket,
                at,
                EventAction.ESCALATED if new != old else EventAction.REMINDED,
                from_level=old,
                to_level=new,
                label="system",
                public=new != old,
                data={"overdue": overdue, "reminders": row["reminders"]},
            )
            self.counts["escalations"] += 1

    def _live(self, ticket: _Ticket, rounds: int = 0) -> None:
        """Play the ticket's life forward from its (re)submission until now."""
        rng, calendar, policy, row = self.rng, self.calendar, ticket.policy, ticket.row
        start = ticket.events[-1][AT]
        # Respond (accept or reject), mostly in time; a few late ones are escalated first.
        late = rng.random() < (0.03 if policy.urgent else 0.05)
        fraction = rng.uniform(1.05, 2.2) if late else rng.betavariate(1.3, 4.0)
        respond = max(
            start + 1, calendar.add(start, max(1, int(policy.response * fraction)), policy.counting)
        )
        if rng.random() < 0.004 and ticket.submitted > self.now - 40 * DAY:
            respond = self.now + DAY  # stuck: nobody answers; the sweep keeps escalating it
        self._escalate_until(ticket, respond, "response_due_at", policy.response, "response")
        if respond > self.now:
            return
        if rounds == 0 and rng.random() < (0.02 if policy.kind == "help" else 0.035):
            reason = rng.choice(REJECTIONS)
            self._move(ticket, respond, TicketState.REJECTED, EventAction.REJECTED, reason)
            row["rejection_reason"], ticket.closed = reason, respond
            row["closed_at"] = respond
            return
        actor, _ = self._staff(ticket)
        self._move(ticket, respond, TicketState.ACCEPTED, EventAction.ACCEPTED)
        row["responded_at"] = row.get("responded_at") or respond
        row["assignee_id"] = actor
        # Resolve, mostly well within the deadline (counted from the (re)submission).
        late = rng.random() < 0.05
        fraction = rng.uniform(1.05, 1.7) if late else rng.betavariate(1.2, 5.0)
        resolve = calendar.add(start, max(2, int(policy.resolution * fraction)), policy.counting)
        resolve = max(resolve, respond + rng.randint(5, 60))
        if rng.random() < 0.003 and ticket.submitted > self.now - 60 * DAY:
            resolve = self.now + DAY  # a hard case, still open and overdue
        if rng.random() < 0.6 and respond + 2 < resolve:
            started = respond + rng.randint(1, max(1, min(240, (resolve - respond) // 3)))
            if started > self.now:
                return
            self._move(ticket, started, TicketState.IN_PROGRESS, EventAction.STARTED)
        note = ""
        if self._whistle_chance(policy) and resolve - respond > 6 * HOUR:
            resolve = max(resolve, respond + 8 * HOUR)
            at = respond + rng.randint(10, max(11, (resolve - respond) // 5))
            self._escalate_until(ticket, at, "resolution_due_at", policy.resolution, "resolution", respond)
            if at > self.now:
                return
            resolve, note = self._whistle(ticket, at, resolve)
        self._escalate_until(ticket, resolve, "resolution_due_at", policy.resolution, "resolution", respond)
        if resolve > self.now:
            return
        self._resolve(ticket, resolve, rounds, note=note)

    def _whistle_chance(self, policy: _Policy) -> bool:
        if not policy.departments:
            return False
        chance = 0.3 if policy.resolution >= 15 * WORKDAY_MINUTES else 0.2 if not policy.urgent else 0.1
        if policy.counting == Counting.WORKING and policy.resolution < 15 * WORKDAY_MINUTES:
            chance = 0.06
        return self.rng.random() < chance

    def _whistle(self, ticket: _Ticket, at: int, resolve: int) -> tuple[int, str]:
        """吹哨: departments summoned, report in (late ones reminded), act; the level confirms.
        Returns when the ticket resolves (after now if not yet) and the confirmation's note."""
        rng, row = self.rng, ticket.row
        old = ticket.state
        level = ticket.level
        names_ids = rng.sample(
            ticket.policy.departments, 2 if len(ticket.policy.departments) > 1 and rng.random() < 0.25 else 1
        )
        whistle_pk = self.whistle_ids.next()
        actor, label = self._staff(ticket)
        to = TicketState.IN_PROGRESS if old == TicketState.ACCEPTED else ""
        note = rng.choice(WHISTLE_NOTES)
        whistle = {
            "id": whistle_pk,
            "ticket_id": ticket.pk,
            "level": ticket.level,
            "node_id": row["owner_node_id"],
            "note": note,
            "created_by_id": actor,
            "created_at": at,
            "confirmed_at": None,
            "confirmed_by_id": None,
        }
        self.whistles.append(whistle)
        self._event(
            ticket,
            at,
            EventAction.WHISTLED,
            from_state=old if to else "",
            to_state=to,
            actor=actor,
            label=label,
            note=note,
            data={
                "whistle": whistle_pk,
                "departments": [d for d, _ in names_ids],
                "names": "、".join(n for _, n in names_ids),
            },
        )
        self.counts["whistles"] += 1
        last_acted = at
        all_acted = True
        for department, name in names_ids:
            summons_pk = self.summons_ids.next()
            due = at + self.report_in
            reported = at + int(
                self.report_in
                * rng.choice((rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0.9, 1.6)))
            )
            # 催办, as the sweep does: at the deadline, then every report-in period until it reports in.
            reminders, remind_at = 0, due
            while remind_at < reported and remind_at <= self.now:
                reminders += 1
                row["reminders"] += 1
                self._event(
                    ticket,
                    remind_at,
                    EventAction.REMINDED,
                    label="system",
                    public=False,
                    data={
                        "summons": summons_pk,
                        "department": department,
                        "overdue": "report_in",
                        "reminders": reminders,
                    },
                    bump=False,
                )
                remind_at += self.report_in
            summons: dict[str, Any] = {
                "id": summons_pk,
                "whistle_id": whistle_pk,
                "department_id": department,
                "due_at": due,
                "reported_at": None,
                "reported_by_id": None,
                "action_note": "",
                "acted_at": None,
                "reminders": reminders,
                "remind_at": remind_at,
                "reminded_at": remind_at - self.report_in if reminders else None,
            }
            self.summonses.append(summons)
            if reported > self.now:
                all_acted = False
                continue
            summons["reported_at"], summons["remind_at"] = reported, None
            self._event(
                ticket,
                reported,
                EventAction.REPORTED_IN,
                label=name,
                data={
                    "summons": summons_pk,
                    "whistle": whistle_pk,
                    "department": department,
                    "late": reported > due,
                    "late_minutes": max(0, reported - due),
                    "reminders": reminders,
                },
                bump=False,
            )
            acted = reported + rng.randint(30, max(31, (max(resolve, reported + 60) - reported) * 2 // 3))
            if acted > self.now:
                all_acted = False
                continue
            note = rng.choice(DEPARTMENT_NOTES)
            summons["acted_at"], summons["action_note"] = acted, note
            self._event(
                ticket,
                acted,
                EventAction.DEPARTMENT_ACTED,
                label=name,
                note=note,
                data={"summons": summons_pk, "department": department},
                bump=False,
            )
            last_acted = max(last_acted, acted)
        resolve = max(resolve, last_acted + rng.randint(10, 240))
        if not all_acted or resolve > self.now:
            return self.now + DAY, ""
        # The summoning level confirms (it may since have escalated further).
        actor = ticket.address.users[level]
        label = "" if actor else ticket.address.labels[level]
        whistle["confirmed_at"], whistle["confirmed_by_id"] = resolve, actor
        note = rng.choice(RESOLUTION_NOTES[ticket.policy.code])
        self._event(
            ticket,
            resolve,
            EventAction.CONFIRMED,
            actor=actor,
            label=label,
            note=note,
            data={"whistle": whistle_pk},
            bump=False,
        )
        return resolve, note

    def _resolve(self, ticket: _Ticket, at: int, rounds: int, *, note: str = "") -> None:
        rng, row = self.rng, ticket.row
        note = note or rng.choice(RESOLUTION_NOTES[ticket.policy.code])  # a confirmation's note
        self._move(ticket, at, TicketState.RESOLVED, EventAction.RESOLVED, note)
        row["resolved_at"], row["resolution_note"] = at, note
        # Most handlers also write the text for the public board (the demo's notes hold no personal
        # data); the others leave it to the board's plain sentence. No draw: the demo stays the same.
        row["public_outcome"] = note if row["id"] % 5 else ""
        row["rating_due_at"] = at + self.rating_window
        # The resident rates within the window, or the sweep closes the ticket when it ends.
        if rng.random() < 0.72:
            rated = at + min(self.rating_window - 1, int(rng.expovariate(1 / (18 * HOUR))) + 5)
            if rated > self.now:
                return
            if rounds == 0:
                rating = rng.choices(list(RATING_COMMENTS), (85, 10, 5))[0]
            else:
                rating = rng.choices(list(RATING_COMMENTS), (60, 32, 8 if rounds < 2 else 0))[0]
            comment = rng.choice(RATING_COMMENTS[rating])
            row["rating"], row["rating_comment"] = rating, comment
            self._event(
                ticket, rated, EventAction.RATED, label="resident", note=comment, data={"rating": rating}
            )
            if rating == Rating.UNSATISFIED:
                self._reopen(ticket, rated, comment or str(Rating.UNSATISFIED.label), rounds)
                return
            self._close(ticket, rated, label="resident")
        elif row["rating_due_at"] <= self.now:
            self._close(ticket, row["rating_due_at"], label="system", data={"unrated": True})

    def _close(self, ticket: _Ticket, at: int, *, label: str, data: dict[str, Any] | None = None) -> None:
        self._event(
            ticket,
            at,
            EventAction.CLOSED,
            from_state=ticket.state,
            to_state=TicketState.CLOSED,
            label=label,
            data=data,
        )
        ticket.row["closed_at"], ticket.row["rating_due_at"], ticket.closed = at, None, at

    def _reopen(self, ticket: _Ticket, at: int, reason: str, rounds: int) -> None:
        policy, row = ticket.policy, ticket.row
        old_level = ticket.level
        new = min(old_level + 1, Level.SUBDISTRICT)
        ticket.level = row["level"] = new
        row["owner_node_id"], row["assignee_id"] = ticket.address.levels[new], None
        row["reopen_count"] += 1
        row["resolved_at"] = row["rating_due_at"] = None
        ticket.missed.clear()  # a reopened ticket gets fresh deadlines
        row["response_due_at"] = self.calendar.add(at, policy.response, policy.counting)
        row["resolution_due_at"] = self.calendar.add(at, policy.resolution, policy.counting)
        self._event(
            ticket,
            at,
            EventAction.REOPENED,
            from_state=ticket.state,
            to_state=TicketState.REOPENED,
            from_level=old_level,
            to_level=new,
            label="resident",
            note=reason,
        )
        self.counts["reopened"] += 1
        self._live(ticket, rounds + 1)

    def _duplicate(self, survivor: _Ticket) -> _Ticket | None:
        """Another resident reports the same matter; the handler merges it into the first ticket."""
        rng = self.rng
        if survivor.state in (TicketState.REJECTED, TicketState.MERGED):
            return None
        at = survivor.submitted + rng.randint(5, 12 * HOUR)
        merged = at + rng.randint(5, 4 * HOUR)
        if merged > self.now or (survivor.closed is not None and merged >= survivor.closed):
            return None
        duplicate = self._ticket(survivor.policy, survivor.address, at)
        policy = duplicate.policy
        self._escalate_until(duplicate, merged, "response_due_at", policy.response, "response")
        note = rng.choice(MERGE_NOTES)
        self._move(
            duplicate, merged, TicketState.MERGED, EventAction.MERGED, note, into=survivor.row["number"]
        )
        duplicate.row["merged_into_id"], duplicate.row["closed_at"] = survivor.pk, merged
        actor, label = self._staff(duplicate)
        self._event(
            survivor,
            merged,
            EventAction.COMMENTED,
            actor=actor,
            label=label,
            note=note,
            data={"merged": duplicate.row["number"]},
            bump=False,
        )
        self.counts["merged"] += 1
        return duplicate

    # --- the demo accounts' own fresh tickets ---------------------------------------------------
    def fresh(self) -> list[_Ticket]:
        """A handful of open tickets in the demo grid worker's grid (王丽, 奎星楼社区第一网格)."""
        plan = self.plan
        key_entrances = {
            self.nodes[e.code].pk for b in plan.key_grid.compounds[0].buildings for e in b.entrances
        }
        addresses = [a for a in self.addresses if a.entrance in key_entrances]
        household, resident = plan.key_resident
        home = next(a for a in addresses if any(h[0] == self.nodes[household.code].pk for h in a.households))
        made = []

        def new(code: str, ago: int, address: _Address, channel: str = "doorplate", node: int = 0) -> _Ticket:
            ticket = self._ticket(self.policies[code], address, self.now - ago, channel=channel, node=node)
            made.append(ticket)
            return ticket

        new("stairwell-light", 25, addresses[0])
        new("garbage-removal", 70, addresses[1 % len(addresses)])
        new("parking", 2 * HOUR, addresses[2 % len(addresses)], channel="phone")
        accepted = new("flying-wire-charging", 3 * HOUR, addresses[3 % len(addresses)])
        self._move(accepted, self.now - 2 * HOUR - 40, TicketState.ACCEPTED, EventAction.ACCEPTED)
        accepted.row["responded_at"] = self.now - 2 * HOUR - 40
        accepted.row["assignee_id"] = self.users.get("demo-grid-worker")
        # A water outage whistled to the water company, which has not reported in yet.
        outage = new("water-outage", 2 * HOUR, home)
        self._move(outage, self.now - 110, TicketState.ACCEPTED, EventAction.ACCEPTED)
        outage.row["responded_at"], outage.row["assignee_id"] = (
            self.now - 110,
            self.users.get("demo-grid-worker"),
        )
        self._whistle_open(outage, self.now - 90)
        # The demo resident's own ticket, resolved yesterday and waiting for a rating.
        own = new("stairwell-light", 2 * DAY, home, node=self.nodes[household.code].pk)
        own.row["reporter_user_id"] = self.users.get("demo-resident")
        own.row["reporter_name"], own.row["reporter_phone"] = resident.name, resident.phone
        own.row["reporter_phone_hash"] = personal.lookup_hash(resident.phone) if resident.phone else ""
        own.row["is_anonymous"] = False
        self._move(own, self.now - 2 * DAY + 30, TicketState.ACCEPTED, EventAction.ACCEPTED)
        own.row["responded_at"] = self.now - 2 * DAY + 30
        self._resolve_at(own, self.now - DAY)
        # Rated 不满意 this morning: reopened to the community (孙静, 刘建华).
        reopened = new("drain-blocked", 3 * DAY, addresses[-1])
        self._move(reopened, self.now - 3 * DAY + 40, TicketState.ACCEPTED, EventAction.ACCEPTED)
        reopened.row["responded_at"] = self.now - 3 * DAY + 40
        self._resolve_at(reopened, self.now - 2 * DAY - 3 * HOUR)
        comment = RATING_COMMENTS[Rating.UNSATISFIED][0]
        reopened.row["rating"], reopened.row["rating_comment"] = Rating.UNSATISFIED.value, comment
        self._event(
            reopened,
            self.now - 40,
            EventAction.RATED,
            label="resident",
            note=comment,
            data={"rating": "unsatisfied"},
        )
        policy, row = reopened.policy, reopened.row
        row["level"] = reopened.level = Level.COMMUNITY
        row["owner_node_id"], row["assignee_id"] = reopened.address.levels[Level.COMMUNITY], None
        row["reopen_count"], row["resolved_at"], row["rating_due_at"] = 1, None, None
        row["response_due_at"] = self.calendar.add(self.now - 40, policy.response, policy.counting)
        row["resolution_due_at"] = self.calendar.add(self.now - 40, policy.resolution, policy.counting)
        self._event(
            reopened,
            self.now - 40,
            EventAction.REOPENED,
            from_state=TicketState.RESOLVED,
            to_state=TicketState.REOPENED,
            from_level=Level.GRID,
            to_level=Level.COMMUNITY,
            label="resident",
            note=comment,
        )
        return made

    def _resolve_at(self, ticket: _Ticket, at: int) -> None:
        note = RESOLUTION_NOTES[ticket.policy.code][0]
        self._move(ticket, at, TicketState.RESOLVED, EventAction.RESOLVED, note)
        ticket.row.update(
            resolved_at=at, resolution_note=note, public_outcome=note, rating_due_at=at + self.rating_window
        )

    def _whistle_open(self, ticket: _Ticket, at: int) -> None:
        department, name = next(d for d in ticket.policy.departments)
        whistle_pk, summons_pk = self.whistle_ids.next(), self.summons_ids.next()
        actor, label = self._staff(ticket)
        note = WHISTLE_NOTES[0]
        self.whistles.append(
            {
                "id": whistle_pk,
                "ticket_id": ticket.pk,
                "level": ticket.level,
                "node_id": ticket.row["owner_node_id"],
                "note": note,
                "created_by_id": actor,
                "created_at": at,
                "confirmed_at": None,
                "confirmed_by_id": None,
            }
        )
        self.summonses.append(
            {
                "id": summons_pk,
                "whistle_id": whistle_pk,
                "department_id": department,
                "due_at": at + self.report_in,
                "reported_at": None,
                "reported_by_id": None,
                "action_note": "",
                "acted_at": None,
                "reminders": 0,
                "remind_at": at + self.report_in,  # the sweep reminds it when due
                "reminded_at": None,
            }
        )
        self._event(
            ticket,
            at,
            EventAction.WHISTLED,
            from_state=ticket.state,
            to_state=TicketState.IN_PROGRESS,
            actor=actor,
            label=label,
            note=note,
            data={"whistle": whistle_pk, "departments": [department], "names": name},
        )


class _Ids:
    """Primary keys reserved in blocks (`bulk.reserve_ids`), handed out one by one."""

    def __init__(self, model: type[Any]) -> None:
        self.model = model
        self.free: list[int] = []

    def next(self) -> int:
        if not self.free:
            self.free = bulk.reserve_ids(self.model, 5000)[::-1]
        return self.free.pop()


EVENT_COLUMNS = (
    "id",
    "ticket_id",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "from_state",
    "to_state",
    "from_level",
    "to_level",
    "note",
    "is_public",
    "data",
)
AT, DATA = EVENT_COLUMNS.index("at"), EVENT_COLUMNS.index("data")

_TICKET_TIMES = (
    "submitted_at",
    "response_due_at",
    "resolution_due_at",
    "rating_due_at",
    "responded_at",
    "resolved_at",
    "closed_at",
)
_WHISTLE_TIMES = ("created_at", "confirmed_at")
_SUMMONS_TIMES = ("due_at", "reported_at", "acted_at", "remind_at", "reminded_at")
_TICKET_DEFAULTS: dict[str, Any] = {
    "submit_key": None,
    "reporter_user_id": None,
    "assignee_id": None,
    "merged_into_id": None,
    "rating": "",
    "rating_comment": "",
    "resolution_note": "",
    "public_outcome": "",
    "rejection_reason": "",
    **dict.fromkeys(_TICKET_TIMES),
}


def _insert(model: type[Any], rows: list[dict[str, Any]]) -> int:
    """Rows whose values are already what the database takes, in batches of executemany.
    (The field machinery of `bulk.insert_values` cost most of the demo's time here.)"""
    if not rows:
        return 0
    columns = {field.attname: field.column for field in model._meta.concrete_fields}
    names = list(rows[0])
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(columns[n]) for n in names)}) "
        f"VALUES ({', '.join(['%s'] * len(names))})"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), bulk.BATCH):
            cursor.executemany(
                sql, [tuple(row[n] for n in names) for row in rows[start : start + bulk.BATCH]]
            )
    return len(rows)


def _insert_tuples(model: type[Any], names: tuple[str, ...], rows: list[tuple[Any, ...]]) -> int:
    """`_insert` for rows that are already tuples in `names` order."""
    columns = {field.attname: field.column for field in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(columns[n]) for n in names)}) "
        f"VALUES ({', '.join(['%s'] * len(names))})"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), bulk.BATCH):
            cursor.executemany(sql, rows[start : start + bulk.BATCH])
    return len(rows)


def _time_adapter(epoch_utc: dt.datetime, days: int) -> Any:
    """Minutes since `epoch_utc` → the value the database takes for an aware datetime."""
    if connection.vendor != "sqlite":
        return lambda t: None if t is None else epoch_utc + dt.timedelta(minutes=t)
    # Django's SQLite backend stores naive UTC text, "YYYY-MM-DD HH:MM:SS"; built from a
    # day prefix and a time of day: a million datetimes formatted one by one took seconds.
    start = epoch_utc.replace(tzinfo=None)
    shift = start.hour * 60 + start.minute
    base = start.replace(hour=0, minute=0)
    dates = [f"{base + dt.timedelta(days=d):%Y-%m-%d} " for d in range(days)]
    clock = [f"{m // 60:02d}:{m % 60:02d}:00" for m in range(DAY)]

    def adapt(t: int | None) -> str | None:
        if t is None:
            return None
        day, minute = divmod(t + shift, DAY)
        return dates[day] + clock[minute]

    return adapt


class _Sink:
    """Buffers rows and writes them in bulk: tickets, then their events, whistles and summonses."""

    CHUNK = 5000

    def __init__(self, simulator: _Simulator) -> None:
        self.simulator = simulator
        self.tickets: list[_Ticket] = []
        self.written = Counter[str]()
        self.time = _time_adapter(simulator.calendar.epoch_utc, days=len(simulator.calendar.working) + 2)
        self.now = connection.ops.adapt_datetimefield_value(simulator.now_utc)
        self.decimals: dict[Decimal, Any] = {}

    def _decimal(self, value: Decimal) -> Any:
        if value not in self.decimals:
            self.decimals[value] = connection.ops.adapt_decimalfield_value(value, 9, 6)
        return self.decimals[value]

    def add(self, ticket: _Ticket) -> None:
        self.tickets.append(ticket)
        if len(self.tickets) >= self.CHUNK:
            self.flush()

    def flush(self, final: bool = False) -> None:
        time, dumps = self.time, json.dumps
        rows, events = [], []
        for ticket in self.tickets:
            row = {**_TICKET_DEFAULTS, **ticket.row, "state": ticket.state, "updated_at": self.now}
            for name in _TICKET_TIMES:
                row[name] = time(row[name])
            row["answers"] = dumps(row["answers"], ensure_ascii=False)
            row["latitude"], row["longitude"] = (
                self._decimal(row["latitude"]),
                self._decimal(row["longitude"]),
            )
            rows.append(row)
            for event in ticket.events:
                data = event[DATA]
                events.append(
                    (
                        *event[:AT],
                        time(event[AT]),
                        *event[AT + 1 : DATA],
                        dumps(data, ensure_ascii=False) if data else "{}",
                    )
                )
            self.written["open"] += ticket.state in _OPEN
        self.written["tickets"] += _insert(Ticket, rows)
        self.written["events"] += _insert_tuples(TicketEvent, EVENT_COLUMNS, events)
        self.tickets = []
        if final:
            whistles, summonses = self.simulator.whistles, self.simulator.summonses
            for items, names in ((whistles, _WHISTLE_TIMES), (summonses, _SUMMONS_TIMES)):
                for item in items:
                    for name in names:
                        item[name] = time(item[name])
            self.written["whistles"] += _insert(Whistle, whistles)
            _insert(Summons, summonses)


_OPEN = frozenset(
    {TicketState.SUBMITTED, TicketState.REOPENED, TicketState.ACCEPTED, TicketState.IN_PROGRESS}
)


def ensure_default_categories() -> None:
    """The categories of the tickets' data migration (a flushed test database has none)."""
    import importlib

    migration = importlib.import_module("gongzhi.tickets.migrations.0002_seed_default_categories")
    migration.seed_categories(global_apps)


def link_departments(organizations: dict[str, Organization]) -> None:
    """Each category answers to the demo departments of CATEGORY_DEPARTMENTS."""
    through = Category.departments.through
    categories = dict(Category.objects.values_list("code", "pk"))
    through.objects.bulk_create(
        [
            through(category_id=categories[code], organization_id=organizations[f"D-{department}"].pk)
            for code, departments in CATEGORY_DEPARTMENTS.items()
            if code in categories
            for department in departments
            if f"D-{department}" in organizations
        ],
        ignore_conflicts=True,
    )


def demo_tickets_write(
    *,
    plan: DistrictPlan,
    nodes: dict[str, Node],
    organizations: dict[str, Organization],
    count: int,
    now: dt.datetime,
) -> DemoTicketCounts:
    """Write `count` (about) tickets of the year before `now`; inside the demo's transaction."""
    ensure_default_categories()
    link_departments(organizations)
    with bulk.bulk_write_tuning():  # SQLite: a page cache for the index inserts of ~700k rows
        return _write(plan=plan, nodes=nodes, organizations=organizations, count=count, now=now)


def _write(
    *,
    plan: DistrictPlan,
    nodes: dict[str, Node],
    organizations: dict[str, Organization],
    count: int,
    now: dt.datetime,
) -> DemoTicketCounts:
    simulator = _Simulator(plan=plan, nodes=nodes, organizations=organizations, now=now, count=count)
    sink = _Sink(simulator)
    # Merges comment on a survivor after it was simulated: hold each ticket back until the
    # next one (its duplicates come right after it).
    held: list[_Ticket] = []
    for ticket in simulator.run():
        if ticket.row.get("merged_into_id") is None and held:
            for earlier in held:
                sink.add(earlier)
            held = []
        held.append(ticket)
    for ticket in held + simulator.fresh():
        sink.add(ticket)
    sink.flush(final=True)
    written = sink.written
    return DemoTicketCounts(
        tickets=written["tickets"],
        events=written["events"],
        open=written["open"],
        whistles=written["whistles"],
    )
