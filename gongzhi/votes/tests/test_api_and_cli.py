"""The published record over HTTP and `gongzhi vote-verify` on it: exit 0 when sound, 1 when not."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import time_machine
from django.test import Client

from gongzhi.accounts.scope import resolve_actor
from gongzhi.cli import main
from gongzhi.core.testing import PASSWORD
from gongzhi.votes.services import ballot_cast, vote_close
from gongzhi.votes.tests.factories import CLOSES, OPENS, make_compound, open_vote

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_vote():
    with time_machine.travel(OPENS + dt.timedelta(hours=1), tick=False) as clock:
        world = make_compound(["88.5", "88.5", "120"], ["甲", "乙", "丙"])
        vote = open_vote(world, matter="property_manager", question="是否续聘现物业")
        for name, choice in (("甲", "for"), ("乙", "against"), ("丙", "for"), ("乙", "for")):
            ballot_cast(vote_id=vote.pk, person_id=world.owners[name].pk, choice=choice, method="in_person")
        open_one = open_vote(world, question="是否同意设置潮汐停车位")
        clock.move_to(CLOSES)
        vote_close(actor=None, vote_id=vote.pk)
        yield world, vote, open_one


def test_anyone_can_download_a_closed_votes_record(closed_vote) -> None:
    _world, vote, open_one = closed_vote
    response = Client().get(f"/api/v1/votes/{vote.pk}/record")
    assert response.status_code == 200
    record = response.json()
    assert record["vote"]["threshold"] == "more_than_half"
    assert {p["area"] for p in record["parts"]} == {"88.50", "120.00"}
    assert record["result"]["passed"] is True and record["result"]["participating_headcount"] == 3
    assert len(record["ballots"]) == 3 and len(record["superseded"]) == 1
    assert "甲" not in response.content.decode()  # owners appear as pseudonyms only
    assert Client().get(f"/api/v1/votes/{open_one.pk}/record").status_code == 404


def test_the_vote_list_is_scoped(closed_vote) -> None:
    world, vote, _open_one = closed_vote
    inside, outside = Client(), Client()
    inside.login(username=world.staff.username, password=PASSWORD)
    outside.login(username=world.outsider_staff.username, password=PASSWORD)
    listed = inside.get("/api/v1/votes?status=closed").json()
    assert [item["id"] for item in listed["items"]] == [vote.pk]
    assert listed["items"][0]["record_url"] == f"/api/v1/votes/{vote.pk}/record"
    assert listed["items"][0]["closed_at"] == CLOSES.isoformat()
    assert (listed["items"][0]["closed_early"], listed["items"][0]["close_reason"]) == (False, "")
    assert outside.get("/api/v1/votes?status=closed").json()["count"] == 0
    assert Client().get("/api/v1/votes").status_code == 401
    assert resolve_actor(world.staff).user == world.staff


def test_vote_verify_exits_0_on_a_sound_record_and_1_on_a_tampered_one(
    closed_vote, tmp_path: Path, capsys
) -> None:
    _world, vote, _open_one = closed_vote
    record = Client().get(f"/api/v1/votes/{vote.pk}/record").json()
    good = tmp_path / "record.json"
    good.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    assert main(["vote-verify", str(good)]) == 0
    assert "VERIFIED" in capsys.readouterr().out
    record["result"]["passed"] = False
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(record), encoding="utf-8")
    assert main(["vote-verify", str(bad)]) == 1
    output = capsys.readouterr().out
    assert "NOT VERIFIED" in output and "result.passed" in output
    record = Client().get(f"/api/v1/votes/{vote.pk}/record").json()
    record["superseded"][0]["choice"] = "for"
    bad.write_text(json.dumps(record), encoding="utf-8")
    assert main(["vote-verify", str(bad)]) == 1
    assert main(["vote-verify", str(tmp_path / "missing.json")]) == 1
