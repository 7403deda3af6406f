"""The demo's deliberation story: 鼓楼花园's heating from the March survey to heat on 20 November."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.test import Client, override_settings

from gongzhi.core.demo.build import DemoSummary, demo_build
from gongzhi.core.demo.deliberation import story_year
from gongzhi.core.demo.tickets import ensure_default_categories
from gongzhi.meetings.models import Meeting, MeetingStatus, Project, ProjectStatus
from gongzhi.surveys.models import OptionCount, Survey, SurveyStatus
from gongzhi.territory.models import Node
from gongzhi.votes.models import Ballot, Vote, VoteStatus
from gongzhi.votes.record import verify_record, vote_record

SCALE = 0.05
BUILT_AT = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)  # 10:00 in 兖州: a week after the heat came on


@pytest.fixture(scope="module")
def demo(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any
) -> Iterator[tuple[DemoSummary, float]]:
    with (
        django_db_blocker.unblock(),
        transaction.atomic(),
        override_settings(DEBUG=False, DEMO_MODE=True, MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))),
        time_machine.travel(BUILT_AT, tick=False),
    ):
        ensure_default_categories()
        started = time.perf_counter()
        summary = demo_build(scale=SCALE, tickets=300)
        yield summary, time.perf_counter() - started
        transaction.set_rollback(True)


def test_the_story_year_is_the_last_heating_day_before_the_build() -> None:
    assert story_year(BUILT_AT) == 2026
    assert story_year(dt.datetime(2026, 3, 10, 2, tzinfo=dt.UTC)) == 2025
    assert story_year(dt.datetime(2026, 11, 20, 2, tzinfo=dt.UTC)) == 2025  # heat comes on that day


def test_the_heating_project_carries_the_whole_story(demo, db) -> None:
    project = Project.objects.get(title="鼓楼花园集中供暖改造")
    assert project.node.name == "鼓楼花园" and project.node.property_manager is None
    assert project.status == ProjectStatus.DONE
    milestones = list(project.milestones.order_by("order"))
    assert [m.title for m in milestones][:2] == ["民意调查：九成住户赞成", "成立供暖筹备小组"]
    assert all(m.done_at for m in milestones)
    assert milestones[-1].done_at == dt.date(2026, 11, 20)
    assert milestones[-2].done_at == dt.date(2026, 11, 2)
    assert sum(f.amount for f in project.funding.all()) == project.budget == Decimal("2600000.00")
    assert {p.stage for p in project.photos.all()} == {"before", "after"}
    assert project.satisfied > project.unsatisfied
    assert project.ratings.count() == project.satisfied + project.unsatisfied
    assert project.resolution.meeting.kind.code == "residents"


def test_the_march_survey_is_closed_published_and_about_nine_in_ten_for(demo, db) -> None:
    survey = Survey.objects.get(title="鼓楼花园集中供暖意向调查")
    assert survey.status == SurveyStatus.CLOSED and survey.results_published
    assert survey.opens_at.month == 3 and survey.responses_count > 0
    first = survey.questions.order_by("order").first()
    counts = dict(OptionCount.objects.filter(question=first).values_list("option", "count"))
    assert sum(counts.values()) == survey.responses_count
    assert counts.get(0, 0) / survey.responses_count >= 0.75


def test_the_votes_are_closed_passed_and_their_records_verify(demo, db) -> None:
    votes = {v.matter: v for v in Vote.objects.all()}
    assert set(votes) == {"rebuild", "common_parts"}
    for vote in votes.values():
        assert vote.status == VoteStatus.CLOSED and vote.threshold == "three_quarters"
        assert vote.result["quorum_met"] and vote.result["passed"], vote.result
        verification = verify_record(vote_record(vote))
        assert verification.ok, verification.problems
        assert vote.opens_at <= min(b.cast_at for b in vote.ballots.all())
        assert max(b.cast_at for b in vote.ballots.all()) < vote.closes_at
    heating = votes["rebuild"]
    assert heating.compound.name == "鼓楼花园"
    methods = set(heating.ballots.values_list("method", flat=True))
    assert "in_person" in methods
    assert Ballot.objects.filter(vote=heating, superseded_by__isnull=False).exists()  # a replaced ballot


def test_meetings_recur_monthly_and_a_four_in_one_meeting_decided_the_fitness_project(demo, db) -> None:
    leaders = Meeting.objects.filter(kind__code="building-leaders").order_by("starts_at")
    assert leaders.count() >= 12
    assert len({m.series_id for m in leaders}) == 1
    assert leaders.filter(status=MeetingStatus.HELD).count() == 11  # January to November
    assert leaders.filter(status=MeetingStatus.SCHEDULED, starts_at__gt=BUILT_AT).exists()
    joint = Meeting.objects.get(kind__code="four-in-one", status=MeetingStatus.HELD)
    upcoming = Meeting.objects.get(kind__code="four-in-one", status=MeetingStatus.SCHEDULED)
    assert upcoming.starts_at > BUILT_AT  # next week's, to try the QR sign-in on
    assert (
        joint.status == MeetingStatus.HELD and joint.invitees.filter(organization__isnull=False).count() >= 2
    )
    fitness = joint.resolutions.get().project
    assert fitness.title == "奎星苑南区健身器材改造升级" and fitness.status == ProjectStatus.DONE
    parking = Project.objects.get(title__startswith="奎星苑北区停车位规划")
    assert parking.status == ProjectStatus.UNDER_WAY


def test_the_public_list_of_the_community_shows_the_projects(demo, db) -> None:
    community = Node.objects.get(kind="community", name="奎星楼社区")
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/projects/{community.code}/").content.decode()
    for title in ("鼓楼花园集中供暖改造", "奎星苑南区健身器材改造升级", "奎星苑北区停车位规划"):
        assert title in page
    assert "孙静" not in page  # the demo's community staff member convened the meetings


def test_the_demo_is_still_quick(demo, db) -> None:
    _summary, seconds = demo
    assert seconds < 20
