"""The demo's deliberation and decisions (议 → 定 → 办), told as data through the real services.

The story the issue carries, after the press reports: 鼓楼花园, an old compound (1996) in 奎星楼社区
without a property manager, gets central heating. A survey in March (about nine in ten households
for), a preparation group set up at a residents' meeting, an owners' vote on the retrofit (art. 278
item 7, three-quarters) closed and passed, then fundraising, a tender, supervised works, finished on
2 November and heat on 20 November. Beside it: a fitness-equipment upgrade in 奎星苑南区 raised at
the monthly building leaders' meeting and decided at a 四位一体 joint meeting, and a parking-space
plan in 奎星苑北区 (a vote on common parts, three-quarters).

The demo's 鼓楼花园 has the households the plan gives it (356 at full scale, a handful at small
scales), not the 2,327 of the report: enough to vote, fast to build.

Times: the services read `gongzhi.core.clock.now()`; each step runs with that clock patched to the
moment it happened (`unittest.mock.patch("gongzhi.core.clock.now")`), so ballots fall inside their
voting window and votes close after it, exactly as they would have. The story's year is the latest
one whose 20 November lies before the build time, so the whole story is in the past.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from unittest import mock

from django.core.files.base import ContentFile
from django.db.models import Q
from django.utils import timezone

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.accounts.scope import Actor, resolve_actor
from gongzhi.core import personal
from gongzhi.core.demo.plan import CompoundPlan, DistrictPlan
from gongzhi.meetings.models import Meeting, Project, ProjectPhoto, ProjectRating
from gongzhi.meetings.services import (
    AgendaSpec,
    MeetingSpec,
    ResolutionSpec,
    meeting_create,
    meeting_record,
    meeting_sign_in_by_staff,
    milestone_done,
    project_add_funding,
    project_add_milestone,
    project_move,
)
from gongzhi.people.models import Person, Relation, Residency
from gongzhi.surveys.models import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
from gongzhi.surveys.services import (
    QuestionSpec,
    survey_close,
    survey_create,
    survey_open,
    survey_publish_results,
    survey_recount,
)
from gongzhi.territory.models import Node, NodeKind, Organization, subtree_q
from gongzhi.tickets.models import Ticket
from gongzhi.votes.models import BallotMethod, Matter, Vote, VoteOwner
from gongzhi.votes.services import ballot_cast, vote_close, vote_create, vote_open

HEATING_COMPOUND = "鼓楼花园"
FITNESS_COMPOUND = "奎星苑南区"
PARKING_COMPOUND = "奎星苑北区"
STAFF_USERNAME = "demo-community-staff"
SEED = 20261120


@dataclass
class DeliberationCounts:
    meetings: int = 0
    surveys: int = 0
    votes: int = 0
    ballots: int = 0
    projects: int = 0
    vote_ids: list[int] = field(default_factory=list)


@contextmanager
def at(moment: dt.datetime) -> Iterator[None]:
    """Run services as if it were `moment` (they read the clock through gongzhi.core.clock.now)."""
    with mock.patch("gongzhi.core.clock.now", return_value=moment):
        yield


def local(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, hour, minute))


def story_year(now: dt.datetime) -> int:
    """The latest year whose heating day (20 November) lies before `now`."""
    local_now = timezone.localtime(now)
    return local_now.year if local_now >= local(local_now.year, 11, 21, 0) else local_now.year - 1


def demo_deliberation_write(
    *, plan: DistrictPlan, nodes: dict[str, Node], organizations: dict[str, Organization], now: dt.datetime
) -> DeliberationCounts:
    """Write the story; called by demo_build inside its transaction, after the people and tickets."""
    writer = _Story(plan=plan, nodes=nodes, organizations=organizations, now=now)
    writer.write()
    return writer.counts


def _compound(plan: DistrictPlan, name: str) -> CompoundPlan:
    return next(c for grid in plan.key_community.grids for c in grid.compounds if c.name == name)


def _image(
    colours: tuple[tuple[int, int, int], tuple[int, int, int]], warm: bool, seed: int
) -> ContentFile[bytes]:
    """A simple drawn picture (a building front with windows, radiators glowing when `warm`)."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    sky, (red, green, blue) = colours
    shade = rng.randint(-18, 18)
    wall = (red + shade, green + shade, blue + shade)
    image = Image.new("RGB", (800, 520), sky)
    draw = ImageDraw.Draw(image)
    draw.rectangle((120, 90, 680, 520), fill=wall)
    for row in range(5):
        for col in range(6):
            x, y = 150 + col * 88, 120 + row * 78
            lit = warm and rng.random() < 0.8
            draw.rectangle((x, y, x + 56, y + 46), fill=(255, 214, 120) if lit else (90, 104, 120))
    if warm:
        for x in range(60, 760, 140):
            draw.rectangle((x, 470, x + 90, 510), fill=(196, 60, 40))
            for fin in range(x + 8, x + 90, 14):
                draw.line((fin, 474, fin, 506), fill=(240, 120, 90), width=4)
    else:
        draw.rectangle((40, 430, 110, 510), fill=(60, 60, 60))  # an old coal stove
        draw.rectangle((62, 330, 80, 430), fill=(80, 80, 80))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return ContentFile(buffer.getvalue(), name=f"demo-{seed}.jpg")


def _document(name: str) -> ContentFile[bytes]:
    """A small placeholder scan (a one-page PDF) for proxy authorizations and paper ballots."""
    body = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    )
    return ContentFile(body + b"trailer<</Root 1 0 R>>\n%%EOF\n", name=name)


class _Story:
    def __init__(
        self,
        *,
        plan: DistrictPlan,
        nodes: dict[str, Node],
        organizations: dict[str, Organization],
        now: dt.datetime,
    ) -> None:
        self.plan, self.nodes, self.organizations, self.now = plan, nodes, organizations, now
        self.year = story_year(now)
        self.rng = random.Random(SEED)
        self.counts = DeliberationCounts()
        self.community = nodes[plan.key_community.code]
        self.heating = nodes[_compound(plan, HEATING_COMPOUND).code]
        self.fitness = nodes[_compound(plan, FITNESS_COMPOUND).code]
        self.parking = nodes[_compound(plan, PARKING_COMPOUND).code]
        staff = User.objects.get(username=STAFF_USERNAME)
        self.actor: Actor = resolve_actor(staff)
        self.party_committee = organizations[f"P-{plan.key_community.code}"]
        self.residents_committee = organizations[f"RC-{plan.key_community.code}"]

    def write(self) -> None:
        self.building_leaders_meetings()
        self.heating_story()
        self.fitness_story()
        self.parking_story()
        self.upcoming_joint_meeting()

    # --- helpers ---------------------------------------------------------------------------------

    def _owners(self, compound: Node) -> list[Person]:
        return list(
            Person.objects.filter(
                pk__in=Residency.objects.filter(
                    subtree_q("household__path", compound.path), relation=Relation.OWNER
                ).values("person_id")
            ).order_by("pk")
        )

    def _convene(self, moment: dt.datetime, spec: MeetingSpec) -> list[Meeting]:
        with at(moment - dt.timedelta(days=7)):
            meetings = meeting_create(actor=self.actor, spec=spec)
        self.counts.meetings += len(meetings)
        return meetings

    def _hold(
        self,
        meeting: Meeting,
        *,
        people: list[Person],
        minutes: str,
        resolutions: Sequence[ResolutionSpec] = (),
    ) -> list[Project]:
        for index, person in enumerate(people):
            with at(meeting.starts_at + dt.timedelta(minutes=index % 15 - 10)):
                meeting_sign_in_by_staff(actor=self.actor, meeting_id=meeting.pk, person_id=person.pk)
        with at(meeting.ends_at + dt.timedelta(hours=2)):
            meeting_record(actor=self.actor, meeting_id=meeting.pk, minutes=minutes, resolutions=resolutions)
        projects = list(Project.objects.filter(resolution__meeting=meeting).order_by("pk"))
        self.counts.projects += len(projects)
        return projects

    def _track(
        self,
        project: Project,
        *,
        milestones: list[tuple[str, dt.date, dt.date | None, str]],
        funding: list[tuple[str, Decimal]],
        moves: list[tuple[str, dt.datetime]],
    ) -> None:
        with at(timezone.make_aware(dt.datetime.combine(milestones[0][1], dt.time(9)))):
            for source, amount in funding:
                project_add_funding(actor=self.actor, project_id=project.pk, source=source, amount=amount)
            for title, due, _done, note in milestones:
                project_add_milestone(
                    actor=self.actor, project_id=project.pk, title=title, due=due, note=note
                )
        for milestone, (_title, _due, done, note) in zip(
            project.milestones.order_by("order"), milestones, strict=True
        ):
            if done is not None:
                with at(timezone.make_aware(dt.datetime.combine(done, dt.time(18)))):
                    milestone_done(actor=self.actor, milestone_id=milestone.pk, on=done, note=note)
        for status, moment in moves:
            with at(moment):
                project_move(actor=self.actor, project_id=project.pk, to=status)

    def _photos(self, project: Project, pictures: list[tuple[str, str, bool]]) -> None:
        skies = [((168, 190, 214), (176, 160, 140)), ((120, 170, 230), (222, 206, 178))]
        for index, (stage, caption, warm) in enumerate(pictures):
            ProjectPhoto.objects.create(
                project=project,
                stage=stage,
                image=_image(skies[1 if warm else 0], warm, SEED + project.pk * 10 + index),
                caption=caption,
                uploaded_at=project.finished_at or self.now,
            )

    def _ratings(self, project: Project, people: list[Person], satisfied_share: float) -> None:
        """Residents' satisfaction at the end: once per phone, as the public page counts it."""
        rated_at = (project.finished_at or self.now) + dt.timedelta(days=3)
        rows = [
            ProjectRating(
                project=project,
                phone_hash=personal.lookup_hash(person.phone),
                satisfied=self.rng.random() < satisfied_share,
                rated_at=rated_at,
            )
            for person in people
            if person.phone
        ]
        unique = list({row.phone_hash: row for row in rows}.values())
        ProjectRating.objects.bulk_create(unique)
        satisfied = sum(1 for row in unique if row.satisfied)
        Project.objects.filter(pk=project.pk).update(satisfied=satisfied, unsatisfied=len(unique) - satisfied)

    def _vote(
        self,
        compound: Node,
        *,
        question: str,
        description: str,
        matter: str,
        opens: dt.datetime,
        closes: dt.datetime,
        shares: tuple[float, float, float],
    ) -> Vote:
        """Create, open, cast and close a vote: `shares` = (not taking part, against, abstain) of owners."""
        with at(opens - dt.timedelta(days=5)):
            vote = vote_create(
                actor=self.actor,
                compound_id=compound.pk,
                question=question,
                description=description,
                matter=matter,
                opens_at=opens,
                closes_at=closes,
            )
            vote_open(actor=self.actor, vote_id=vote.pk)
        self._cast(vote, opens, closes, shares)
        with at(closes + dt.timedelta(minutes=5)):
            vote_close(actor=None, vote_id=vote.pk)
        self.counts.votes += 1
        self.counts.vote_ids.append(vote.pk)
        vote.refresh_from_db()
        return vote

    def _cast(
        self, vote: Vote, opens: dt.datetime, closes: dt.datetime, shares: tuple[float, float, float]
    ) -> None:
        # One voter per owner key (co-owners vote once for their home); the developer has no unsold homes here.
        voters: dict[str, int] = {}
        for key, person_id in (
            VoteOwner.objects.filter(vote=vote)
            .order_by("owner_key", "person_id")
            .values_list("owner_key", "person_id")
        ):
            voters.setdefault(key, person_id)
        voting = [voters[key] for key in sorted(voters) if key in voters]
        self.rng.shuffle(voting)
        absent, against, abstain = (int(len(voting) * share) for share in shares)
        voting = voting[absent:]
        choices = ["against"] * against + ["abstain"] * abstain
        choices += ["for"] * (len(voting) - len(choices))
        span = (closes - opens).total_seconds() * 0.9
        for index, (person_id, choice) in enumerate(zip(voting, choices, strict=True)):
            moment = opens + dt.timedelta(seconds=span * (index + 1) / (len(voting) + 1))
            method, actor, document, proxy = BallotMethod.IN_PERSON, None, None, ""
            if index % 25 == 7:
                method, actor, document = BallotMethod.PAPER, self.actor, _document("paper-ballot.pdf")
            elif index % 30 == 11:
                method, document, proxy = BallotMethod.PROXY, _document("authorization.pdf"), "代理人（子女）"
            with at(moment):
                if index == len(voting) - 1 and choice == "for":
                    # Changed their mind within the period: the later ballot replaces the earlier one.
                    ballot_cast(
                        vote_id=vote.pk, choice="against", method=BallotMethod.IN_PERSON, person_id=person_id
                    )
                    moment += dt.timedelta(minutes=30)
            with at(moment):
                result = ballot_cast(
                    vote_id=vote.pk,
                    choice=choice,
                    method=method,
                    person_id=person_id,
                    actor=actor,
                    document=document,
                    proxy_name=proxy,
                )
            self.counts.ballots += len(result.ballots)

    # --- 楼长见面会: monthly ------------------------------------------------------------------------

    def building_leaders_meetings(self) -> None:
        first = local(self.year, 1, 15, 15)
        until = (timezone.localtime(self.now) + dt.timedelta(days=95)).date()
        meetings = self._convene(
            first,
            MeetingSpec(
                node_id=self.community.pk,
                kind_code="building-leaders",
                title="奎星楼社区楼长见面会（楼长有话说）",
                starts_at=first,
                ends_at=first + dt.timedelta(hours=2),
                place="奎星楼社区党群服务中心二楼会议室",
                agenda=[
                    AgendaSpec("各楼栋近期居民诉求汇总"),
                    AgendaSpec("楼道环境与安全隐患排查"),
                ],
                invite_roles=[Role.BUILDING_LEADER, Role.GRID_WORKER, Role.COMMUNITY_STAFF],
                invite_organization_ids=[self.residents_committee.pk, self.party_committee.pk],
                recurrence="monthly",
                until=until,
            ),
        )
        leaders = list(
            Person.objects.filter(
                pk__in=User.objects.filter(
                    pk__in=RoleAssignment.objects.filter(
                        subtree_q("node__path", self.community.path), role=Role.BUILDING_LEADER
                    ).values("user_id"),
                    person__isnull=False,
                ).values("person_id")
            ).order_by("pk")
        )
        self.leaders = leaders
        for meeting in meetings:
            if meeting.ends_at + dt.timedelta(hours=2) >= self.now:
                continue
            # Signing in goes through the service, one person at a time: a dozen leaders keeps it quick.
            present = [p for p in leaders if self.rng.random() < 0.8][:12]
            month = timezone.localtime(meeting.starts_at).month
            raised = "<li>奎星苑南区健身器材老化、部分损坏，楼长建议改造升级。</li>" if month == 6 else ""
            self._hold(
                meeting,
                people=present,
                minutes=(
                    f"<p>{month}月楼长见面会，各楼长通报本楼栋情况。</p><ul>"
                    "<li>楼道堆物清理：由网格员会同楼长本周内完成。</li>"
                    f"{raised}"
                    "<li>独居老人走访：楼长每周至少一次。</li></ul>"
                ),
            )

    # --- 鼓楼花园: the heating ----------------------------------------------------------------------

    def heating_story(self) -> None:
        year = self.year
        survey = self._heating_survey()
        meeting_at = local(year, 4, 8, 15)
        (meeting,) = self._convene(
            meeting_at,
            MeetingSpec(
                node_id=self.heating.pk,
                kind_code="residents",
                title="鼓楼花园集中供暖议事会：成立供暖筹备小组",
                starts_at=meeting_at,
                ends_at=meeting_at + dt.timedelta(hours=2, minutes=30),
                place="鼓楼花园小区广场（小马扎议事点）",
                agenda=[
                    AgendaSpec("通报3月民意调查结果", "九成住户赞成接入集中供暖。", survey_id=survey.pk),
                    AgendaSpec("成立供暖筹备小组", "社区党委牵头，楼长、党员中心户、居民代表参加。"),
                    AgendaSpec("资金筹措与业主共同决定的安排"),
                ],
                invite_roles=[Role.GRID_WORKER],
                invite_organization_ids=[self.party_committee.pk, self.residents_committee.pk],
            ),
        )
        owners = self._owners(self.heating)
        present = [p for p in owners if self.rng.random() < 0.2][:36] or owners[:3]
        (project,) = self._hold(
            meeting,
            people=present,
            minutes=(
                "<h3>议定事项</h3><ol>"
                "<li>成立鼓楼花园供暖筹备小组，由社区党委牵头，楼长、党员中心户和居民代表组成。</li>"
                "<li>5月组织业主共同决定（《民法典》第二百七十八条第一款第七项，须经参与表决专有部分面积四分之三以上"
                "且参与表决人数四分之三以上的业主同意）。</li>"
                "<li>改造费用按建筑面积分摊，同时争取街道和区级老旧小区改造补贴。</li>"
                "<li>工程公开招标，筹备小组和居民代表全程监督施工。</li></ol>"
            ),
            resolutions=[
                ResolutionSpec(
                    text="鼓楼花园集中供暖改造",
                    owner_id=self.party_committee.pk,
                    deadline=dt.date(year, 11, 20),
                    budget=Decimal("2600000.00"),
                )
            ],
        )
        vote = self._vote(
            self.heating,
            question="是否同意鼓楼花园实施集中供暖改造，改造费用按专有部分建筑面积分摊？",
            description=(
                "鼓楼花园建成于1996年，无物业管理，冬季靠各户自行取暖。3月民意调查中约九成住户赞成接入集中供暖。"
                "本事项属改建、重建建筑物及其附属设施，须经参与表决专有部分面积四分之三以上且参与表决人数四分之三以上的业主同意。"
            ),
            matter=Matter.REBUILD,
            opens=local(year, 5, 10, 8),
            closes=local(year, 5, 31, 20),
            shares=(0.08, 0.06, 0.04),
        )
        Project.objects.filter(pk=project.pk).update(
            description=(
                "鼓楼花园是无物业管理的老旧小区。3月民意调查后，社区党委牵头成立供暖筹备小组，筹措资金、工程招标、"
                f"全程监督施工。业主共同决定（第{vote.pk}号表决）以法定多数通过。工程11月2日完工，11月20日如期供暖。"
            )
        )
        self._track(
            project,
            milestones=[
                (
                    "民意调查：九成住户赞成",
                    dt.date(year, 3, 24),
                    dt.date(year, 3, 24),
                    "3月3日至24日入户和扫码调查",
                ),
                ("成立供暖筹备小组", dt.date(year, 4, 8), dt.date(year, 4, 8), "社区党委牵头"),
                ("业主共同决定通过", dt.date(year, 5, 31), dt.date(year, 5, 31), "面积和人数均超过四分之三"),
                ("筹措资金", dt.date(year, 7, 15), dt.date(year, 7, 12), "居民自筹与各级补贴到位"),
                ("工程招标", dt.date(year, 8, 10), dt.date(year, 8, 8), "公开招标，筹备小组全程参与"),
                ("全程监督施工", dt.date(year, 11, 2), dt.date(year, 11, 2), "11月2日完工"),
                ("如期供暖", dt.date(year, 11, 20), dt.date(year, 11, 20), "11月20日供暖"),
            ],
            funding=[
                ("居民按面积自筹", Decimal("1900000.00")),
                ("街道老旧小区改造补贴", Decimal("500000.00")),
                ("兖州区热力公司减免接口费", Decimal("150000.00")),
                ("社区基金", Decimal("50000.00")),
            ],
            moves=[
                ("under_way", local(year, 6, 1, 9)),
                ("done", local(year, 11, 20, 8)),
            ],
        )
        project.refresh_from_db()
        self._photos(
            project,
            [
                ("before", "改造前：住户自装的取暖炉", False),
                ("after", "改造后：暖气入户，11月20日如期供暖", True),
            ],
        )
        self._ratings(project, owners, satisfied_share=0.96)

    def _heating_survey(self) -> Survey:
        year = self.year
        opens, closes = local(year, 3, 3, 8), local(year, 3, 24, 20)
        with at(opens - dt.timedelta(days=2)):
            survey = survey_create(
                actor=self.actor,
                node_id=self.heating.pk,
                title="鼓楼花园集中供暖意向调查",
                respondent="household",
                opens_at=opens,
                closes_at=closes,
                description="小区无物业、冬季无集中供暖。请每户填写一份，结果将向居民公布。",
                questions=[
                    QuestionSpec("single", "您家是否赞成小区接入集中供暖？", ["赞成", "不赞成", "无所谓"]),
                    QuestionSpec(
                        "single",
                        "改造费用按建筑面积分摊，您家能否接受？",
                        ["能接受", "希望有补贴后再定", "不能接受"],
                    ),
                    QuestionSpec("text", "您还有什么意见和建议？", required=False),
                ],
            )
            survey_open(actor=self.actor, survey_id=survey.pk)
        self._survey_answers(survey, opens, closes)
        with at(closes + dt.timedelta(minutes=1)):
            survey_close(actor=self.actor, survey_id=survey.pk)
            survey_publish_results(actor=self.actor, survey_id=survey.pk)
        self.counts.surveys += 1
        return survey

    def _survey_answers(self, survey: Survey, opens: dt.datetime, closes: dt.datetime) -> None:
        """Answers of ~85% of the households (about nine in ten for), written in bulk, then counted
        by the survey's own recount (a few hundred answers through survey_answer would cost seconds)."""
        questions = list(SurveyQuestion.objects.filter(survey=survey).order_by("order"))
        households = list(
            Node.objects.filter(subtree_q("path", self.heating.path), kind=NodeKind.HOUSEHOLD).order_by(
                "path"
            )
        )
        span = (closes - opens).total_seconds()
        responses = []
        for household in households:
            if self.rng.random() >= 0.85:
                continue
            responses.append(
                SurveyResponse(
                    survey=survey,
                    respondent_key=f"h:{household.pk}",
                    household=household,
                    channel="phone" if self.rng.random() < 0.7 else "paper",
                    entered_by=None,
                    submitted_at=opens + dt.timedelta(seconds=self.rng.uniform(0, span)),
                )
            )
        for response in responses:
            if response.channel == "paper":
                response.entered_by = self.actor.user
        created = SurveyResponse.objects.bulk_create(responses)
        if created and created[0].pk is None:  # backends without RETURNING ids
            created = list(SurveyResponse.objects.filter(survey=survey).order_by("pk"))
        remarks = [
            "希望今年冬天就能用上暖气",
            "老人怕冷，盼望早日供暖",
            "希望施工期间注意安全",
            "费用请公开透明",
        ]
        answers = []
        for response in created:
            roll = self.rng.random()
            favour = 0 if roll < 0.9 else (1 if roll < 0.96 else 2)
            cost = 0 if favour == 0 and self.rng.random() < 0.8 else (1 if favour != 1 else 2)
            answers.append(SurveyAnswer(response=response, question=questions[0], options=[favour]))
            answers.append(SurveyAnswer(response=response, question=questions[1], options=[cost]))
            if self.rng.random() < 0.15:
                answers.append(
                    SurveyAnswer(response=response, question=questions[2], text=self.rng.choice(remarks))
                )
        SurveyAnswer.objects.bulk_create(answers, batch_size=2000)
        survey_recount(survey_id=survey.pk)

    # --- 奎星苑南区: fitness equipment, decided at a 四位一体 joint meeting ------------------------

    def fitness_story(self) -> None:
        year = self.year
        manager = self.fitness.property_manager
        committee = Organization.objects.filter(nodes=self.fitness, kind="owners_committee").first()
        hospital = Organization.objects.filter(code="U-hospital").first()
        tickets = list(
            Ticket.objects.filter(subtree_q("node__path", self.community.path))
            .filter(Q(description__contains="健身") | Q(category__code__in=["sanitation", "property"]))
            .order_by("pk")
            .values_list("pk", flat=True)[:3]
        )
        meeting_at = local(year, 6, 26, 15)
        invited = [o.pk for o in (manager, committee, self.residents_committee, hospital) if o is not None]
        (meeting,) = self._convene(
            meeting_at,
            MeetingSpec(
                node_id=self.fitness.pk,
                kind_code="four-in-one",
                title="奎星苑南区四位一体联席会：健身器材改造升级",
                starts_at=meeting_at,
                ends_at=meeting_at + dt.timedelta(hours=2),
                place="奎星苑南区党建服务点",
                agenda=[
                    AgendaSpec(
                        "健身器材老化损坏，楼长见面会上居民提出改造升级",
                        "社区、业委会、物业、居民代表共同商议选址、器材和资金。",
                        ticket_ids=tickets,
                    ),
                    AgendaSpec("资金来源：共建单位支持、物业公共收益、社区基金"),
                ],
                invite_roles=[Role.GRID_WORKER, Role.BUILDING_LEADER],
                invite_organization_ids=invited,
            ),
        )
        owners = self._owners(self.fitness)
        owner_org = manager or self.residents_committee
        (project,) = self._hold(
            meeting,
            people=(owners[:8] or owners),
            minutes=(
                "<p>社区、业委会、物业和居民代表共同议定：</p><ul>"
                "<li>拆除损坏器材，更换适老化健身器材12件，增设塑胶地面。</li>"
                "<li>物业负责采购安装，业委会和居民代表监督验收。</li></ul>"
            ),
            resolutions=[
                ResolutionSpec(
                    text="奎星苑南区健身器材改造升级",
                    owner_id=owner_org.pk,
                    deadline=dt.date(year, 9, 30),
                    budget=Decimal("40000.00"),
                )
            ],
        )
        self._track(
            project,
            milestones=[
                ("楼长见面会上提出", dt.date(year, 6, 15), dt.date(year, 6, 15), "楼长有话说"),
                ("四位一体联席会议定", dt.date(year, 6, 26), dt.date(year, 6, 26), ""),
                ("选购适老化器材", dt.date(year, 8, 15), dt.date(year, 8, 10), ""),
                ("安装和塑胶地面施工", dt.date(year, 9, 20), dt.date(year, 9, 18), ""),
                ("居民代表验收", dt.date(year, 9, 30), dt.date(year, 9, 26), "验收合格"),
            ],
            funding=[
                ("兖州区人民医院（共建单位）支持", Decimal("20000.00")),
                ("物业公共收益", Decimal("12000.00")),
                ("社区基金", Decimal("8000.00")),
            ],
            moves=[("under_way", local(year, 7, 1, 9)), ("done", local(year, 9, 26, 17))],
        )
        project.refresh_from_db()
        self._photos(
            project,
            [("before", "改造前：器材老化损坏", False), ("after", "改造后：适老化健身器材", True)],
        )
        self._ratings(project, owners, satisfied_share=0.92)

    # --- 奎星苑北区: a parking-space plan (common parts, three-quarters) ---------------------------

    def parking_story(self) -> None:
        year = self.year
        meeting_at = local(year, 8, 20, 19)
        (meeting,) = self._convene(
            meeting_at,
            MeetingSpec(
                node_id=self.parking.pk,
                kind_code="listening",
                title="奎星苑北区民情恳谈会：停车难怎么办",
                starts_at=meeting_at,
                ends_at=meeting_at + dt.timedelta(hours=1, minutes=30),
                place="奎星苑北区3号楼前",
                agenda=[AgendaSpec("利用公共绿地边角施划停车位的方案"), AgendaSpec("车位分配和收益使用")],
                invite_roles=[Role.BUILDING_LEADER],
                invite_organization_ids=[self.residents_committee.pk],
            ),
        )
        owners = self._owners(self.parking)
        manager = self.parking.property_manager or self.residents_committee
        (project,) = self._hold(
            meeting,
            people=owners[:10] or owners,
            minutes=(
                "<p>居民同意将北侧公共绿地边角改建为停车位，方案须经业主共同决定"
                "（改变共有部分用途，四分之三以上）。车位收益纳入小区公共收益。</p>"
            ),
            resolutions=[
                ResolutionSpec(
                    text="奎星苑北区停车位规划：施划车位42个",
                    owner_id=manager.pk,
                    deadline=dt.date(year + 1, 3, 31),
                    budget=Decimal("86000.00"),
                )
            ],
        )
        self._vote(
            self.parking,
            question="是否同意将小区北侧公共绿地边角改建为停车位（施划车位42个），收益纳入小区公共收益？",
            description="本事项属改变共有部分用途，须经参与表决专有部分面积和人数均四分之三以上的业主同意。",
            matter=Matter.COMMON_PARTS,
            opens=local(year, 9, 5, 8),
            closes=local(year, 9, 30, 20),
            shares=(0.1, 0.07, 0.05),
        )
        self._track(
            project,
            milestones=[
                ("民情恳谈会征求意见", dt.date(year, 8, 20), dt.date(year, 8, 20), ""),
                ("业主共同决定通过", dt.date(year, 9, 30), dt.date(year, 9, 30), "改变共有部分用途"),
                ("设计和施工招标", dt.date(year, 12, 15), None, ""),
                ("施工和划线", dt.date(year + 1, 3, 31), None, ""),
            ],
            funding=[("物业公共收益", Decimal("50000.00")), ("车位预收费", Decimal("36000.00"))],
            moves=[("under_way", local(year, 10, 10, 9))],
        )
        project.refresh_from_db()
        self._photos(project, [("before", "改造前：车辆占用消防通道", False)])

    # --- Next week: a 四位一体 joint meeting to try the QR sign-in on ------------------------------

    def upcoming_joint_meeting(self) -> None:
        day = (timezone.localtime(self.now) + dt.timedelta(days=3)).date()
        starts = local(day.year, day.month, day.day, 15)
        heating_tickets = list(
            Ticket.objects.filter(
                subtree_q("node__path", self.heating.path), category__code__startswith="heating"
            )
            .order_by("-pk")
            .values_list("pk", flat=True)[:3]
        )
        self._convene(
            starts,
            MeetingSpec(
                node_id=self.community.pk,
                kind_code="four-in-one",
                title="鼓楼花园供暖运行情况四位一体联席会",
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=2),
                place="奎星楼社区党群服务中心二楼会议室",
                agenda=[
                    AgendaSpec("供暖首周运行情况和居民反映的问题", ticket_ids=heating_tickets),
                    AgendaSpec("建立小区自管供暖维护机制"),
                ],
                invite_roles=[Role.GRID_WORKER, Role.COMMUNITY_STAFF],
                invite_organization_ids=[self.party_committee.pk, self.residents_committee.pk],
            ),
        )
