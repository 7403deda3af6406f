"""Owners' vote benchmark: tally a compound of 20,000 owners, build and verify its public record.

    .venv/bin/python bench/votes.py [--owners 20000] [--turnout 0.85] [--answers 50000]

On its own throw-away database (SQLite in a temporary folder, or a fresh test database on the
PostgreSQL server named by GONGZHI_DATABASE_URL) it builds one compound of --owners owners (most
own one flat, some two or three: about 1.12 flats each, so 20,000 owners hold about 22,400 flats)
and 300 unsold flats of the developer, opens a vote
through the real service (freezing the electorate), casts 200 ballots through the real
`ballot_cast` service and the rest in bulk with the same chain code, then times:

- the tally (`vote_tally`: two queries and the exact art. 278 arithmetic), median of 7 runs;
- closing the vote (`vote_close`, early with a reason: the tally again, published);
- the public record (`vote_record`) and its offline verification (`verify_record`).

It then runs a survey of the same compound with --answers responses (written in bulk, counted by
`survey_recount`, the counters' rebuild) and times the live results page's reads (`survey_results`).

Targets (issue 6): tally of a vote with 20,000 owners <= 1 s; survey results over 50,000 answers <= 200 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tree import setup_django  # the same throw-away database set-up


def timed(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    runs, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), result


UNSOLD = 300  # flats of the developer, in the first buildings


def ownership_plan(owners: int, rng: random.Random) -> list[int]:
    """How many flats each of `owners` owners holds: one for most, two or three for some."""
    return rng.choices((1, 2, 3), weights=(90, 8, 2), k=owners)


def build(owners: int, seed: int) -> tuple[Any, Any, list[int], int]:
    import datetime as dt

    from django.db import transaction

    from gongzhi.accounts.models import Role
    from gongzhi.accounts.scope import resolve_actor
    from gongzhi.core.testing import make_user, superactor
    from gongzhi.people.models import Person, Residency
    from gongzhi.territory.models import NodeKind
    from gongzhi.territory.services import NodeSpec, node_create, nodes_bulk_add

    rng = random.Random(seed)
    plan = ownership_plan(owners, rng)
    households = sum(plan) + UNSOLD
    root = superactor()
    with transaction.atomic():
        district = node_create(actor=root, parent=None, kind=NodeKind.DISTRICT, code="D", name="兖州区")
        sub = node_create(actor=root, parent=district, kind=NodeKind.SUBDISTRICT, code="S", name="鼓楼街道")
        community = node_create(actor=root, parent=sub, kind=NodeKind.COMMUNITY, code="C", name="奎星楼社区")
        grid = node_create(actor=root, parent=community, kind=NodeKind.GRID, code="G", name="第一网格")
        compound = node_create(actor=root, parent=grid, kind=NodeKind.COMPOUND, code="GLHY", name="鼓楼花园")
        flats = []
        per_building = 120
        for b in range((households + per_building - 1) // per_building):
            building = node_create(
                actor=root, parent=compound, kind=NodeKind.BUILDING, code=f"GLHY-{b + 1}", name=f"{b + 1}号楼"
            )
            count = min(per_building, households - b * per_building)
            specs = [
                NodeSpec(
                    NodeKind.HOUSEHOLD,
                    f"GLHY-{b + 1}-{i + 1}",
                    f"{i + 1}",
                    {
                        "door_number": f"{i + 1}",
                        "floor_area": Decimal(rng.randrange(4000, 18000)) / 100,
                        "is_developer_unsold": b * per_building + i < UNSOLD,
                    },
                )
                for i in range(count)
            ]
            flats.extend(nodes_bulk_add(building, specs))
        sold = [flat for flat in flats if not flat.is_developer_unsold]
        people: list[Person] = []
        residencies: list[Residency] = []
        index = 0
        for owned in plan:
            person = Person(name=f"业主{len(people)}", phone=f"139{len(people):08d}", home=sold[index])
            people.append(person)
            for flat in sold[index : index + owned]:
                residencies.append(
                    Residency(person=person, household=flat, relation="owner", ownership_share=1)
                )
            index += owned
        Person.objects.bulk_create(people, batch_size=2000)
        Residency.objects.bulk_create(residencies, batch_size=2000)
        staff = make_user("bench-staff", role=Role.COMMUNITY_STAFF, node=community)
    from gongzhi.votes.services import vote_create

    actor = resolve_actor(staff)
    now = dt.datetime.now(dt.UTC)
    vote = vote_create(
        actor=actor,
        compound_id=compound.pk,
        question="是否同意鼓楼花园集中供暖改造",
        matter="rebuild",
        opens_at=now - dt.timedelta(days=1),
        closes_at=now + dt.timedelta(days=10),
    )
    return actor, vote, [p.pk for p in people], households


def cast_in_bulk(vote: Any, person_ids: list[int], choices: list[str]) -> None:
    """The rest of the ballots with the service's chain code, written in bulk (casting is not timed here)."""
    from django.db import transaction

    from gongzhi.core import clock
    from gongzhi.votes import chain
    from gongzhi.votes.models import Ballot, Vote

    with transaction.atomic():
        vote = Vote.objects.select_for_update().get(pk=vote.pk)
        parts_by_person: dict[int, list[Any]] = {}
        for part in vote.parts.all():
            for person_id in part.person_ids:
                parts_by_person.setdefault(person_id, []).append(part)
        prev, seq, rows = vote.chain_head, vote.next_seq, []
        now = clock.now()
        stamp = chain.timestamp(now)
        for person_id, choice in zip(person_ids, choices, strict=True):
            for part in parts_by_person.get(person_id, []):
                digest = chain.entry_hash(prev, seq, str(part.pk), choice, stamp)
                rows.append(
                    Ballot(
                        vote=vote,
                        part=part,
                        seq=seq,
                        choice=choice,
                        method="in_person",
                        cast_at=now,
                        hash=digest,
                        prev=prev,
                        voter_id=person_id,
                    )
                )
                prev, seq = digest, seq + 1
        Ballot.objects.bulk_create(rows, batch_size=2000)
        vote.chain_head, vote.next_seq = prev, seq
        vote.save(update_fields=["chain_head", "next_seq"])


def run(args: argparse.Namespace) -> int:
    from gongzhi.votes.record import verify_record, vote_record
    from gongzhi.votes.services import ballot_cast, vote_close, vote_open, vote_tally

    rng = random.Random(args.seed)
    started = time.perf_counter()
    actor, vote, person_ids, households = build(args.owners, args.seed)
    print(
        f"built {households:,} flats ({UNSOLD} unsold) and {len(person_ids):,} owners "
        f"in {time.perf_counter() - started:.1f} s"
    )
    seconds, vote = timed(lambda: vote_open(actor=actor, vote_id=vote.pk), 1)
    print(f"open the vote (freeze the electorate): {seconds * 1000:.0f} ms")
    voters = rng.sample(person_ids, int(len(person_ids) * args.turnout))
    choices = rng.choices(["for", "against", "abstain"], weights=(80, 15, 5), k=len(voters))
    sample = 200
    started = time.perf_counter()
    for person_id, choice in zip(voters[:sample], choices[:sample], strict=True):
        ballot_cast(vote_id=vote.pk, person_id=person_id, choice=choice, method="in_person")
    per_ballot = (time.perf_counter() - started) / sample
    print(f"cast a ballot through the service: {per_ballot * 1000:.1f} ms each ({sample} ballots)")
    cast_in_bulk(vote, voters[sample:], choices[sample:])
    seconds, result = timed(lambda: vote_tally(vote), 7)
    print(
        f"tally: {seconds * 1000:.0f} ms median of 7 — {result.total_headcount:,} owners "
        f"(the developer one of them), {result.participating_headcount:,} took part, "
        f"{result.for_headcount:,} for; area {result.participating_area} of {result.total_area} m²; "
        f"passed: {result.passed}"
    )
    seconds, vote = timed(
        lambda: vote_close(
            actor=actor, vote_id=vote.pk, force=True, reason="benchmark: closed before its time on purpose"
        ),
        1,
    )
    print(f"close the vote (tally and publish): {seconds * 1000:.0f} ms")
    seconds, record = timed(lambda: vote_record(vote), 3)
    print(f"public record: {seconds * 1000:.0f} ms ({len(record['ballots']):,} ballots)")
    seconds, verification = timed(lambda: verify_record(record), 3)
    print(
        f"offline verification: {seconds * 1000:.0f} ms — {'VERIFIED' if verification.ok else verification.problems[:3]}"
    )
    survey_ms = bench_survey(actor, vote.compound_id, args.answers, rng)
    print(f"survey results over {args.answers:,} answers: {survey_ms:.1f} ms median of 7")
    return 0 if verification.ok else 1


def bench_survey(actor: Any, node_id: int, answers: int, rng: random.Random) -> float:
    import datetime as dt

    from django.db import transaction

    from gongzhi.surveys.models import SurveyAnswer, SurveyResponse
    from gongzhi.surveys.selectors import survey_results
    from gongzhi.surveys.services import QuestionSpec, survey_create, survey_open, survey_recount

    now = dt.datetime.now(dt.UTC)
    survey = survey_create(
        actor=actor,
        node_id=node_id,
        title="鼓楼花园供暖意愿调查",
        respondent="person",
        opens_at=now - dt.timedelta(days=1),
        closes_at=now + dt.timedelta(days=20),
        questions=[
            QuestionSpec("single", "您是否同意集中供暖改造？", ["同意", "不同意", "无所谓"]),
            QuestionSpec("multiple", "您最关心哪些问题？", ["费用", "工期", "安全", "噪音", "管道入户"]),
            QuestionSpec("rating", "您对目前冬季室温的满意程度"),
            QuestionSpec("text", "其他意见建议", required=False),
        ],
    )
    survey = survey_open(actor=actor, survey_id=survey.pk)
    single, multiple, rating, text = survey.questions.order_by("order")
    with transaction.atomic():
        responses = SurveyResponse.objects.bulk_create(
            [
                SurveyResponse(survey=survey, respondent_key=f"p:{i}", channel="phone", submitted_at=now)
                for i in range(answers)
            ],
            batch_size=5000,
        )
        rows = []
        for response in responses:
            rows.append(
                SurveyAnswer(response=response, question=single, options=[rng.choice((0, 0, 0, 1, 2))])
            )
            rows.append(
                SurveyAnswer(response=response, question=multiple, options=sorted(rng.sample(range(5), 2)))
            )
            rows.append(SurveyAnswer(response=response, question=rating, rating=rng.randint(1, 5)))
            if rng.random() < 0.1:
                rows.append(SurveyAnswer(response=response, question=text, text="希望尽快施工，注意安全"))
        SurveyAnswer.objects.bulk_create(rows, batch_size=5000)
    survey_recount(survey_id=survey.pk)
    seconds, results = timed(lambda: survey_results(survey), 7)
    assert results.responses == answers
    return seconds * 1000


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--owners", type=int, default=20000, help="owners of the compound (default 20,000)")
    parser.add_argument("--turnout", type=float, default=0.85)
    parser.add_argument("--answers", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gongzhi-bench-votes-") as workdir:
        cleanup = setup_django(workdir)
        try:
            return run(args)
        finally:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
