"""The zh_Hans catalogue is complete: every source string translated, nothing fuzzy,
and no string in the code that the catalogue lacks (makemessages would add nothing)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "gongzhi" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _entries(text: str) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) for every entry but the header; plural forms joined."""
    entries = []
    for block in text.split("\n\n"):
        fuzzy = "#, fuzzy" in block or re.search(r"^#,.*fuzzy", block, re.M) is not None
        msgid = (
            "".join(re.findall(r'^msgid(?:_plural)? "(.*)"\n?((?:".*"\n?)*)', block, re.M)[0])
            if "msgid" in block
            else ""
        )
        strings = re.findall(r'^msgstr(?:\[\d\])? "(.*)"((?:\n".*")*)', block, re.M)
        if not strings:
            continue
        msgstr = "".join(head + "".join(re.findall(r'"(.*)"', tail)) for head, tail in strings)
        empty_plural = any(head == "" and not re.findall(r'"(.+)"', tail) for head, tail in strings)
        if msgid == "":
            continue
        entries.append((msgid, "" if empty_plural else msgstr, fuzzy))
    return entries


def test_every_entry_is_translated_and_none_is_fuzzy():
    entries = _entries(CATALOGUE.read_text(encoding="utf-8"))
    assert entries, "the catalogue is empty"
    untranslated = [msgid for msgid, msgstr, _ in entries if not msgstr]
    fuzzy = [msgid for msgid, _, is_fuzzy in entries if is_fuzzy]
    assert untranslated == []
    assert fuzzy == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext tools are not installed")
def test_the_catalogue_covers_every_string_in_the_code(tmp_path):
    copy = tmp_path / "gongzhi"
    shutil.copytree(ROOT / "gongzhi", copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-obsolete",
            "--no-location",
            "--ignore",
            "*/tests/*",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"DJANGO_SETTINGS_MODULE": "", "PATH": "/usr/bin:/bin"},
    )
    fresh = {
        msgid for msgid, _, _ in _entries((copy / "locale/zh_Hans/LC_MESSAGES/django.po").read_text("utf-8"))
    }
    ours = {msgid for msgid, _, _ in _entries(CATALOGUE.read_text(encoding="utf-8"))}
    assert sorted(fresh - ours) == [], "run `make messages` and translate the new strings"
