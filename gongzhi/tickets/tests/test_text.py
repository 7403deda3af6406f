"""Tokens of Chinese ticket text: domain words whole, numerals unified, noise dropped."""

from __future__ import annotations

from pathlib import Path

import jieba
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.tickets import text
from gongzhi.tickets.text import chinese_number, normalize, tokens


def test_domain_words_stay_whole() -> None:
    assert tokens("楼下有人飞线充电，网格员吹哨") == ["楼下", "飞线充电", "网格员", "吹哨"]
    assert tokens("党员中心户反映化粪池堵了") == ["党员中心户", "化粪池", "堵了"]
    assert tokens("暖气不热") == ["暖气", "不热"]


def test_chinese_and_arabic_addresses_give_the_same_tokens() -> None:
    assert tokens("3号楼2单元楼道灯不亮") == ["3号楼", "2单元", "楼道", "灯", "不亮"]
    assert tokens("三号楼二单元楼道的灯坏了") == ["3号楼", "2单元", "楼道", "灯", "坏了"]
    assert tokens("第十五层") == ["15层"]
    assert tokens("２０１室") == ["201室"]  # full-width digits


def test_punctuation_stop_words_and_empty_characters_are_dropped() -> None:
    assert tokens("我们小区门口，有人占道经营！！！请帮忙处理一下，谢谢。") == [
        "小区",
        "门口",
        "占道",
        "经营",
    ]
    assert tokens("的了吗？！……") == []
    assert tokens("") == []


def test_single_characters_are_kept_only_when_they_mean_something() -> None:
    assert "灯" in tokens("楼道的灯坏了")
    assert "水" in tokens("没有水")
    assert "片" not in tokens("暖气片不热")


def test_latin_is_lowercased_and_bare_small_numbers_dropped() -> None:
    assert tokens("WiFi 信号 2 格") == ["wifi", "信号"]
    assert tokens("101 漏水") == ["101", "漏水"]


def test_chinese_numbers() -> None:
    assert [chinese_number(t) for t in ("二", "十", "十五", "二十三", "一百零一", "两")] == [
        2,
        10,
        15,
        23,
        101,
        2,
    ]
    assert normalize("二十三号楼") == "23号楼"


def test_jieba_keeps_its_cache_under_the_var_dir() -> None:
    text.initialize()
    text.initialize()  # idempotent
    assert Path(jieba.dt.tmp_dir) == Path(settings.VAR_DIR) / "jieba"
    assert (Path(settings.VAR_DIR) / "jieba" / "jieba.cache").exists()


@given(st.text(max_size=60))
def test_tokens_never_contain_stop_words_blanks_or_punctuation(value: str) -> None:
    for token in tokens(value):
        assert token == token.strip() and token
        assert token not in text.STOP_WORDS
        assert token == token.lower()
        assert any(ch.isalnum() for ch in token)
