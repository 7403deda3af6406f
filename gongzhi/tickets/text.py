"""Chinese text of tickets as tokens: jieba with the words of community work, for finding
duplicates (similar.py) and suggesting categories (suggest.py).

jieba's dictionary costs about 0.4 s and 50 MB to load, so it is loaded once per process on the
first call of `tokens()` (or earlier by `initialize()`, e.g. in a gunicorn `--preload` master so
the workers share it). Its cache file goes under settings.VAR_DIR, never into a shared /tmp.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

import jieba
from django.conf import settings

# Words of community work that jieba's general dictionary splits or does not know. The frequency
# makes jieba keep them whole; single-character ones make it split compounds like 楼道灯.
DOMAIN_WORDS: tuple[str, ...] = (
    # people and institutions
    "网格员",
    "网格长",
    "楼栋长",
    "红色楼栋长",
    "党员中心户",
    "居委会",
    "业委会",
    "物业",
    "物业公司",
    "社区书记",
    "志愿者",
    # the work
    "吹哨",
    "报到",
    "接诉即办",
    "微心愿",
    "小马扎",
    "接待日",
    "催办",
    # places in a compound
    "楼道",
    "楼梯",
    "单元门",
    "门禁",
    "地下室",
    "车棚",
    "车库",
    "绿化带",
    "健身器材",
    "化粪池",
    "下水道",
    "窨井盖",
    "井盖",
    "电梯",
    "路灯",
    "声控灯",
    "充电桩",
    # matters
    "漏水",
    "渗水",
    "滴水",
    "跑水",
    "爆管",
    "水管",
    "停水",
    "水压",
    "停电",
    "跳闸",
    "燃气",
    "煤气",
    "暖气",
    "供暖",
    "不热",
    "不亮",
    "坏了",
    "堵塞",
    "堵了",
    "返味",
    "停车",
    "乱停",
    "占道",
    "噪音",
    "扰民",
    "广场舞",
    "蚊虫",
    "蚊子",
    "老鼠",
    "蟑螂",
    "垃圾",
    "垃圾桶",
    "垃圾分类",
    "建筑垃圾",
    "飞线充电",
    "电动车",
    "私搭乱建",
    "违建",
    "流浪狗",
    "遛狗",
    "高空抛物",
    "养老金",
    "医保",
    "低保",
    "社保",
    "居住证",
    "独居老人",
)


def _wordlist(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that carry no matter: function words, pronouns, politeness and filler of complaints.
STOP_WORDS: frozenset[str] = _wordlist(
    """
    的 了 着 过 地 得 之 在 是 有 和 与 及 或 而 并 也 都 就 还 又 再 才 很 太 挺 更 最 非常 特别
    一直 已经 总是 经常 老是 一些 一点 一下 一个 一次 这 那 这个 那个 这些 那些 这里 那里 这儿 那儿 这样 那样
    这么 那么 我 我们 我家 俺 咱 咱们 你 你们 您 他 他们 她 她们 它 它们 自己 大家 人家 别人
    请 麻烦 希望 能 能够 可以 可能 应该 需要 要 想 让 叫 帮 帮忙 帮助 解决 处理 谢谢 感谢 您好 你好
    问题 情况 反映 反应 现象 事情 东西 现在 目前 今天 昨天 前天 最近 好几天 几天 每天 天天 晚上 早上 白天
    什么 怎么 怎么办 为什么 为何 如何 哪里 哪儿 多少 吗 呢 吧 啊 呀 哦 啦 嘛 哈 噢 嗯 被 把 给 对 从 到 向 往
    因为 所以 但是 但 可是 如果 虽然 然后 而且 没有 没 不 不是 不能 不会 一 二 三 也是 就是 还是 已 于 以 为
    个 些 等 等等 之类 有人 只有 家里 一样 特别是 总 又是 到底 终于 始终 根本 实在 上 下 里 中 内 外 前 后 时 时候
    """
)

# Single characters that name a thing or a matter on their own; every other single CJK
# character (particles, fragments of words jieba could not join) is dropped.
MEANINGFUL_SINGLE: frozenset[str] = _wordlist(
    "灯 水 电 气 暖 热 冷 门 窗 墙 顶 瓦 梯 井 管 锁 树 草 花 狗 猫 鼠 蚊 蝇 虫 车 路 桥 坑 堵 漏 臭 吵 脏 坏 乱 噪 烟 火 雨 雪 冰"
)

# 三号楼 / 二单元 / 十五层 → 3号楼 / 2单元 / 15层, so Chinese and Arabic numerals match.
_NUMERAL = re.compile(r"([零〇一二两三四五六七八九十百]+)(?=号楼|号|栋|幢|单元|层|楼|室|户|排|区|期)")
# An address part such as 3号楼, 2单元, 15层, 101室 is one token.
_ADDRESS_PART = re.compile(r"\d+(?:号楼|号院|号|栋|幢|单元|层|楼|室|户|排|区|期)")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}

_lock = threading.Lock()
_ready = False


def _cache_dir() -> Path:
    directory = Path(settings.VAR_DIR) / "jieba"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def initialize() -> None:
    """Load jieba's dictionary and the domain words once per process (idempotent, thread-safe)."""
    global _ready
    if _ready:
        return
    with _lock:
        if _ready:
            return
        jieba.setLogLevel(logging.WARNING)
        jieba.dt.tmp_dir = str(_cache_dir())
        jieba.dt.initialize()
        for word in DOMAIN_WORDS:
            jieba.dt.add_word(word, freq=200_000)
        # Dictionary words that glue across the words of addresses and complaints:
        # 2单元|楼道 would become 单元楼|道, 楼道|灯|不亮 would become 楼道|灯不亮.
        for fragment in ("单元楼", "楼二", "灯不亮", "灯坏", "三号", "楼道的"):
            jieba.dt.del_word(fragment)
        _ready = True


def chinese_number(text: str) -> int:
    """二 → 2, 十五 → 15, 二十三 → 23, 一百零一 → 101 (the small numbers of addresses)."""
    total, current = 0, 0
    for char in text:
        if char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _DIGITS[char]
    return total + current


def normalize(text: str) -> str:
    """Full-width to half-width, lowercase, Chinese numerals of addresses as digits."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return _NUMERAL.sub(lambda match: str(chinese_number(match.group(1))), text)


def _keep(token: str) -> bool:
    if not token or token in STOP_WORDS or not any(char.isalnum() for char in token):
        return False
    if token.isdigit():
        return len(token) >= 3  # a door number (101) says something, a bare 2 does not
    if len(token) == 1 and _CJK.match(token):
        return token in MEANINGFUL_SINGLE
    return len(token) > 1 or token.isalpha()


def tokens(text: str) -> list[str]:
    """The words of `text` in order: lowercase, no punctuation or stop words, address parts
    (3号楼, 2单元) whole, single CJK characters only when they mean something (灯, 水)."""
    return list(_tokens(text or ""))


# Duplicate searches tokenize the same recent descriptions again and again.
@lru_cache(maxsize=8192)
def _tokens(text: str) -> tuple[str, ...]:
    initialize()
    text = normalize(text)
    result: list[str] = []
    position = 0
    for match in _ADDRESS_PART.finditer(text):
        result.extend(_words(text[position : match.start()]))
        result.append(match.group())
        position = match.end()
    result.extend(_words(text[position:]))
    return tuple(result)


def _words(text: str) -> list[str]:
    return [word for word in (w.strip() for w in jieba.dt.lcut(text)) if _keep(word)]
