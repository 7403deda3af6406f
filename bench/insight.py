"""Insight benchmark: the dashboards, the roll-ups and the monthly report with 10,000,000 tickets.

    GONGZHI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/gz_x .venv/bin/python bench/insight.py
    make bench-insight                     # the same, with the URL of the environment

PostgreSQL only (the issue's target): a fresh `test_…` database on the server named by
GONGZHI_DATABASE_URL, dropped at the end (`--keep` leaves it for a second look).

1. A district shaped like the demo's, scaled up: 12 subdistricts × 8 communities × 8 grids (768
   grids), each grid 2 compounds × 4 buildings × 2 entrances, through the territory import service;
   the demo's ten departments, linked to the categories as in the demo.
2. Tickets generated set-wise in SQL (INSERT … SELECT over generate_series), with their whole event
   histories as the services write them: see `bench/README.md` for the model (the demo's seasons,
   channels and hours; deadlines met ~88 %; escalations; whistles; ratings, reopenings, merges,
   rejections; the last days' tickets still open, some overdue). The most recent `--small` tickets
   first (the last ~18 days at the district's rate), then the older history up to `--tickets`.
3. After each: the roll-ups made consistent by `rollups_rebuild` (the production path, tested equal to
   the incremental fold and to a brute-force recount), timed; then the node dashboard of a
   subdistrict and of the district rendered whole through the Django test client (session, scope,
   every query, the template), median and worst of `--runs`, with its query count and CPU time.
4. At the full size: a realistic stream of real events made through the real services (submissions,
   acceptances, resolutions, ratings with reopenings, whistles and report-ins, the sweep's
   escalations) appended to the big database, then `rollups_update` timed over them (events/s).
5. The monthly report (PDF + xlsx) of the district and of a subdistrict for last month, through
   `monthly_report_run`.

Targets (issue 5): dashboard ≤ 100 ms at 10M tickets and within 20 % of its time at 100k; roll-ups
≥ 5,000 events/s; monthly PDF ≤ 5 s.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import itertools
import math
import os
import pstats
import random
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import tree  # noqa: E402  (bench/tree.py: its set-up and its city)

GRIDS = 768
HOUSEHOLDS = GRIDS * tree.HOUSEHOLDS_PER_GRID  # tree.py's city of 768 grids: 5 subdistricts, 96 communities
WEEKDAY_FACTOR = (1.05, 1.02, 1.0, 1.0, 1.0, 0.9, 0.85)  # Monday first: fewer tickets at weekends
GROWTH_PER_YEAR = 0.08  # more residents use the platform every year
DESCRIPTIONS_PER_CATEGORY = 40


# --- Set-up ---------------------------------------------------------------------------------------


def setup_django(args: argparse.Namespace) -> Callable[[], None]:
    """bench/tree.py's set-up (a fresh test_… database on the server of GONGZHI_DATABASE_URL); with
    --reuse, the database a run with --keep left, as it is."""
    if args.reuse:
        from django.db.backends.base.creation import BaseDatabaseCreation

        def reuse(creation: Any, *_args: Any, **_kwargs: Any) -> str:
            creation.connection.close()
            creation.connection.settings_dict["NAME"] = args.reuse
            return str(args.reuse)

        BaseDatabaseCreation.create_test_db = reuse  # type: ignore[method-assign]
    cleanup = tree.setup_django(args.workdir)
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench/insight.py runs on PostgreSQL: set GONGZHI_DATABASE_URL=postgres://…")
    name = connection.settings_dict["NAME"]
    print(
        f"database: {name} ({'reused' if args.reuse else 'fresh'}) on {connection.settings_dict['HOST'] or 'localhost'}"
    )
    return (lambda: print(f"kept database {name}")) if args.keep or args.reuse else cleanup


def machine() -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"load average {load} on {os.cpu_count()} cores"


def check_disk(tickets: int) -> None:
    free = shutil.disk_usage("/work" if Path("/work").exists() else "/").free / 1e9
    need = tickets * 2.6e-6  # GB: ~2.6 kB per ticket with its events, facts, roll-ups and indexes
    print(f"disk: {free:,.0f} GB free, about {need:,.0f} GB needed for {tickets:,} tickets")
    if free < need * 1.3:
        sys.exit("not enough disk space: use --tickets with a smaller number")


def cpu() -> float:
    return time.process_time()


def database_cpu() -> float | None:
    """CPU seconds of this connection's PostgreSQL backend (a local server: /proc), else None."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_note(began_cpu: float, began_db: float | None, count: int, unit: str) -> str:
    """ "CPU x ms + y ms a <unit>" (this process + its database backend) over `count` units."""
    own = (cpu() - began_cpu) * 1000 / count
    ended_db = database_cpu()
    if began_db is None or ended_db is None:
        return f"CPU {own:.1f} ms a {unit} (this process)"
    return f"CPU {own:.1f} + {(ended_db - began_db) * 1000 / count:.1f} ms a {unit} (this process + database)"


def database_size() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        return str(cursor.fetchone()[0])


# --- The district ---------------------------------------------------------------------------------


def build_district() -> dict[str, Any]:
    from gongzhi.accounts.models import Role, RoleAssignment, User
    from gongzhi.accounts.scope import resolve_actor
    from gongzhi.core.demo import data
    from gongzhi.core.demo.tickets import CATEGORY_DEPARTMENTS
    from gongzhi.imports.services import import_rows
    from gongzhi.territory.models import Node, NodeKind, Organization, OrganizationKind
    from gongzhi.territory.services import node_create
    from gongzhi.tickets.models import Category

    root_user = User.objects.create_superuser("bench-root", "bench@example.org", "bench-password-0123")
    root = resolve_actor(root_user)
    district = node_create(actor=root, parent=None, kind=NodeKind.DISTRICT, code="D", name="兖州区")
    admin = User.objects.create_user("bench-admin", password="bench-password-0123")
    RoleAssignment.objects.create(
        user=admin, role=Role.DISTRICT_ADMIN, node=district, starts_on=dt.date(2020, 1, 1)
    )
    began = time.perf_counter()
    rows = tree.territory_rows(HOUSEHOLDS)
    result = import_rows(actor=resolve_actor(admin), kind="territory", rows=rows)
    assert result.ok, result.sorted_errors()[:5]
    print(f"territory: {len(rows):,} nodes imported in {time.perf_counter() - began:.1f} s")
    departments = {}
    for code, name, _matters in data.DEPARTMENTS:
        departments[code] = Organization.objects.create(
            kind=OrganizationKind.DEPARTMENT, code=f"D-{code}", name=name
        )
    for category in Category.objects.all():
        for code in CATEGORY_DEPARTMENTS.get(category.code, ()):
            category.departments.add(departments[code])
    handler = User.objects.create_user("bench-handler", password="bench-password-0123")
    RoleAssignment.objects.create(
        user=handler,
        role=Role.DEPARTMENT_HANDLER,
        organization=departments["chengguan"],
        starts_on=dt.date(2020, 1, 1),
    )
    nodes = dict(
        Node.objects.filter(
            kind__in=[NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.GRID, NodeKind.ENTRANCE]
        ).values_list("code", "pk")
    )
    grids = []
    for sub, community, grid in tree.grid_codes(HOUSEHOLDS):
        entrances = [
            nodes[f"G{grid}-X{x}-B{b}-U{e}"]
            for x in range(tree.COMPOUNDS_PER_GRID)
            for b in range(tree.BUILDINGS_PER_COMPOUND)
            for e in range(tree.ENTRANCES_PER_BUILDING)
        ]
        grids.append((nodes[f"G{grid}"], nodes[f"C{community}"], nodes[f"S{sub}"], entrances))
    return {
        "district": district,
        "admin": admin,
        "root": root_user,
        "handler": handler,
        "grids": grids,
        "departments": departments,
    }


def existing_district() -> dict[str, Any]:
    """The world of a database a previous run kept."""
    from gongzhi.accounts.models import User
    from gongzhi.territory.models import Node, Organization

    nodes = dict(Node.objects.filter(code__regex=r"^(S|C|G)[0-9]+$").values_list("code", "pk"))
    grids = [
        (nodes[f"G{grid}"], nodes[f"C{community}"], nodes[f"S{sub}"], [])
        for sub, community, grid in tree.grid_codes(HOUSEHOLDS)
    ]
    entrances: dict[str, list[int]] = {}
    for code, pk in Node.objects.filter(kind="entrance").values_list("code", "pk"):
        entrances.setdefault(code.split("-")[0], []).append(pk)
    grids = [
        (grid, community, sub, entrances[f"G{index}"])
        for index, (grid, community, sub, _) in enumerate(grids)
    ]
    return {
        "district": Node.objects.get(code="D"),
        "admin": User.objects.get(username="bench-admin"),
        "root": User.objects.get(username="bench-root"),
        "handler": User.objects.get(username="bench-handler"),
        "grids": grids,
        "departments": {o.code.removeprefix("D-"): o for o in Organization.objects.filter(kind="department")},
    }


# --- Tickets, set-wise ----------------------------------------------------------------------------


def day_plan(today: dt.date, days: int, total: int) -> list[tuple[dt.date, int, int]]:
    """(day, category id, tickets) for the `days` days before and including today, `total` in all:
    the demo's category shares and monthly seasons, fewer at weekends, growing over the years."""
    from gongzhi.core.demo.tickets import SEASONS
    from gongzhi.tickets.models import Category

    categories = dict(Category.objects.filter(code__in=SEASONS).values_list("code", "pk"))
    weights: list[tuple[dt.date, int, float]] = []
    for index in range(days):
        day = today - dt.timedelta(days=days - 1 - index)
        growth = (1 + GROWTH_PER_YEAR) ** (index / 365)
        for code, (share, months) in SEASONS.items():
            if code in categories:
                weight = share * months[day.month - 1] * WEEKDAY_FACTOR[day.weekday()] * growth
                if weight > 0:
                    weights.append((day, categories[code], weight))
    scale = total / sum(weight for _, _, weight in weights)
    exact = [(day, category, weight * scale) for day, category, weight in weights]
    counts = [math.floor(value) for _, _, value in exact]
    short = total - sum(counts)
    by_remainder = sorted(range(len(exact)), key=lambda i: exact[i][2] - counts[i], reverse=True)
    for i in by_remainder[:short]:
        counts[i] += 1
    return [(day, category, count) for (day, category, _), count in zip(exact, counts, strict=True) if count]


def descriptions(rng: random.Random) -> dict[int, list[str]]:
    """Rendered demo descriptions per category (the SQL picks one per ticket)."""
    from gongzhi.core.demo.tickets import DESCRIPTIONS, SINCE, SPOTS, WHEN
    from gongzhi.tickets.models import Category

    found: dict[int, list[str]] = {}
    for pk, code in Category.objects.values_list("pk", "code"):
        templates = DESCRIPTIONS.get(code) or ("{place}附近的问题，请尽快处理。",)
        found[pk] = [
            rng.choice(templates).format(
                place=f"{rng.randint(1, 12)}号楼{rng.randint(1, 3)}单元",
                floor=rng.randint(1, 18),
                spot=rng.choice(SPOTS),
                when=rng.choice(WHEN),
                since=rng.choice(SINCE),
                temp=rng.randint(12, 17),
            )
            for _ in range(DESCRIPTIONS_PER_CATEGORY)
        ]
    return found


# A uniform number in [0, 1) from the ticket id and a salt: deterministic, no state, any order.
def uniform(salt: int) -> str:
    return f"((hashint8extended(t.id, {salt}) & 2147483647)::float8 / 2147483648.0)"


def normal(salt: int) -> str:
    """A standard normal draw (Box–Muller) from two uniform ones."""
    return f"(sqrt(-2 * ln(1 - {uniform(salt)})) * cos(2 * pi() * {uniform(salt + 1)}))"


# One chunk of planned days → one row per ticket with every milestone of its life (most of them
# after `now` for the last days' tickets: those events are not written, the ticket is still open).
# Durations: lognormal around 30 % of the category's deadlines (about 88 % met), whistles on 4 % of
# the tickets whose category has a department (report-in within 12–192 minutes of a 2-hour
# deadline), 70 % rated (78 % 满意, 16 % 基本满意, 6 % 不满意 → reopened one level up and handled again),
# 2 % rejected, 1 % merged into the ticket before, unrated ones closed after the 7-day window.
PLAN_SQL = """
CREATE UNLOGGED TABLE bench_final AS
WITH base AS (
  SELECT t.id, t.category_id,
    CASE WHEN t.day < %(today)s
      THEN (t.day::timestamp AT TIME ZONE 'Asia/Shanghai')
        + make_interval(hours => width_bucket({u1}, %(hours)s::float8[]), secs => floor({u2} * 3600))
      -- today's tickets: between midnight and now
      ELSE (t.day::timestamp AT TIME ZONE 'Asia/Shanghai')
        + ({u1} * (%(now)s - (t.day::timestamp AT TIME ZONE 'Asia/Shanghai')))
    END AS t_sub,
    {u6} AS r_outcome, {u7} AS r_whistle, {u8} AS r_rate, {u9} AS r_rating,
    {z10} AS z_accept, {z12} AS z_resolve, {z20} AS z_resolve2,
    {u14} AS u_whistle, {u15} AS u_report, {u16} AS u_act, {u17} AS u_confirm, {u18} AS u_rate, {u19} AS u_accept2,
    {u22} AS u_rate2, {u5} AS u_channel, {u3} AS u_entrance, {u4} AS u_text,
    abs(hashint8extended(t.id, 2)) %% %(grids)s AS own_grid, abs(hashint8extended(t.id - 1, 2)) %% %(grids)s AS prior_grid
  FROM (SELECT d.first_id + s.n AS id, d.category_id, d.day
        FROM bench_day d CROSS JOIN LATERAL generate_series(0, d.n - 1) AS s(n) WHERE d.chunk = %(chunk)s) t
), drawn AS (
  SELECT b.*, c.category_code, c.kind, c.default_level AS level0, c.response_minutes AS response_min,
    c.resolution_minutes AS resolution_min, c.department_id, c.department_name,
    c.descriptions[1 + floor(b.u_text * array_length(c.descriptions, 1))::int] AS description,
    (ARRAY['doorplate','phone','doorstep','hall','web','api'])[1 + width_bucket(b.u_channel, %(channels)s::float8[])] AS channel,
    (b.r_outcome < 0.02) AS rejected,
    (b.r_outcome >= 0.02 AND b.r_outcome < 0.03 AND b.id > 1) AS merged,
    (c.department_id IS NOT NULL AND b.r_whistle < 0.04) AS whistled,
    (b.r_rate < 0.7) AS rated,
    CASE WHEN b.r_rating < 0.78 THEN 'satisfied' WHEN b.r_rating < 0.94 THEN 'basically_satisfied'
         ELSE 'unsatisfied' END AS rating
  FROM base b JOIN bench_category c ON c.category_id = b.category_id
), placed AS (
  SELECT d.*, g.grid_id, g.community_id, g.subdistrict_id,
    g.entrances[1 + floor(d.u_entrance * array_length(g.entrances, 1))::int] AS node_id,
    d.t_sub + make_interval(mins => d.response_min) AS due_resp,
    d.t_sub + make_interval(mins => d.resolution_min) AS due_res,
    d.t_sub + make_interval(secs => 60 * exp(ln(d.response_min * 0.3) + d.z_accept)) AS t_acc
  FROM drawn d JOIN bench_grid g ON g.idx = CASE WHEN d.merged THEN d.prior_grid ELSE d.own_grid END
), whistles AS (
  SELECT p.*,
    p.t_acc + make_interval(secs => 60 * (10 + 110 * p.u_whistle)) AS t_wh,
    60 * 120 * (0.1 + 1.5 * p.u_report) AS report_after
  FROM placed p
), worked AS (
  SELECT w.*,
    w.t_wh + make_interval(secs => w.report_after) AS t_rep,
    w.t_wh + make_interval(secs => w.report_after + 60 * (30 + 570 * w.u_act)) AS t_act,
    w.t_wh + make_interval(secs => w.report_after + 60 * (30 + 570 * w.u_act) + 60 * (10 + 230 * w.u_confirm)) AS t_conf
  FROM whistles w
), resolved AS (
  SELECT k.*,
    CASE WHEN k.whistled THEN k.t_conf
         ELSE k.t_acc + make_interval(secs => 60 * exp(ln(k.resolution_min * 0.3) + k.z_resolve)) END AS t_res
  FROM worked k
), lives AS (
  SELECT r.*,
    (r.t_acc > r.due_resp AND NOT r.rejected AND NOT r.merged) AS late_resp,
    (NOT r.whistled AND NOT r.rejected AND NOT r.merged AND r.t_res > r.due_res AND r.t_acc <= r.due_res) AS late_res,
    r.t_res + make_interval(secs => 3600 * (0.5 + 47.5 * r.u_rate)) AS t_rate,
    r.t_res + interval '7 days' AS t_unrated_close
  FROM resolved r
)
SELECT l.*,
  l.t_rate + make_interval(secs => 60 * (5 + 60 * l.u_accept2)) AS t_acc2,
  l.t_rate + make_interval(secs => 60 * (5 + 60 * l.u_accept2) + 60 * exp(ln(l.resolution_min * 0.25) + l.z_resolve2)) AS t_res2,
  l.t_rate + make_interval(secs => 60 * (5 + 60 * l.u_accept2) + 60 * exp(ln(l.resolution_min * 0.25) + l.z_resolve2)
    + 3600 * (1 + 23 * l.u_rate2)) AS t_rate2
FROM lives l
"""

# The ticket rows as the events up to `now` leave them (state, level and owner, deadlines, times).
TICKETS_SQL = """
INSERT INTO tickets_ticket (
  id, number, follow_token, submit_key, kind, category_id, description, answers, channel, node_id, grid_id,
  latitude, longitude, reporter_user_id, reporter_name, reporter_phone, reporter_phone_hash, is_anonymous,
  entered_by_id, state, level, owner_node_id, assignee_id, version, submitted_at, response_due_at,
  resolution_due_at, rating_due_at, responded_at, resolved_at, closed_at, reminders, reopen_count,
  merged_into_id, rating, rating_comment, resolution_note, rejection_reason, updated_at)
SELECT s.id, to_char(s.t_sub AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || lpad(s.id::text, GREATEST(7, length(s.id::text)), '0'),
  md5(s.id::text), NULL, s.kind, s.category_id, s.description, '{}'::jsonb, s.channel, s.node_id, s.grid_id,
  NULL, NULL, NULL, '', '', '', false, NULL, s.state, s.level,
  CASE s.level WHEN 1 THEN s.grid_id WHEN 2 THEN s.community_id ELSE s.subdistrict_id END, NULL, 1, s.t_sub,
  CASE WHEN s.reopened THEN s.t_rate + make_interval(mins => s.response_min) ELSE s.due_resp END,
  CASE WHEN s.reopened THEN s.t_rate + make_interval(mins => s.resolution_min) ELSE s.due_res END,
  CASE WHEN s.state = 'resolved' THEN (CASE WHEN s.reopened THEN s.t_res2 ELSE s.t_res END) + interval '7 days' END,
  CASE WHEN s.t_acc <= %(now)s AND NOT s.rejected AND NOT s.merged THEN s.t_acc END,
  CASE WHEN s.state IN ('resolved', 'closed') THEN CASE WHEN s.reopened THEN s.t_res2 ELSE s.t_res END END,
  CASE WHEN s.state IN ('closed', 'rejected', 'merged') THEN s.closed_at END,
  (s.late_resp AND s.due_resp <= %(now)s)::int + (s.late_res AND s.due_res <= %(now)s)::int,
  s.reopened::int,
  CASE WHEN s.state = 'merged' THEN s.id - 1 END,
  CASE WHEN s.rated AND s.t_rate <= %(now)s
       THEN CASE WHEN s.reopened AND s.t_rate2 <= %(now)s THEN 'satisfied' ELSE s.rating END ELSE '' END,
  '', CASE WHEN s.state IN ('resolved', 'closed') THEN '已处理完毕，现场已恢复。' ELSE '' END,
  CASE WHEN s.state = 'rejected' THEN '不属于本社区受理范围，已告知居民。' ELSE '' END, %(now)s
FROM (
  SELECT f.*,
    (f.rated AND f.rating = 'unsatisfied' AND NOT f.rejected AND NOT f.merged AND f.t_rate <= %(now)s) AS reopened,
    CASE
      WHEN f.rejected THEN CASE WHEN f.t_acc <= %(now)s THEN 'rejected' ELSE 'submitted' END
      WHEN f.merged THEN CASE WHEN f.t_acc <= %(now)s THEN 'merged' ELSE 'submitted' END
      WHEN f.t_acc > %(now)s THEN 'submitted'
      WHEN f.t_res > %(now)s THEN CASE WHEN f.whistled AND f.t_wh <= %(now)s THEN 'in_progress' ELSE 'accepted' END
      WHEN f.rated AND f.rating = 'unsatisfied' THEN CASE
        WHEN f.t_rate > %(now)s THEN 'resolved'
        WHEN f.t_acc2 > %(now)s THEN 'reopened'
        WHEN f.t_res2 > %(now)s THEN 'accepted'
        WHEN f.t_rate2 > %(now)s THEN 'resolved'
        ELSE 'closed' END
      WHEN f.rated THEN CASE WHEN f.t_rate > %(now)s THEN 'resolved' ELSE 'closed' END
      ELSE CASE WHEN f.t_unrated_close > %(now)s THEN 'resolved' ELSE 'closed' END
    END AS state,
    LEAST(3, f.level0
      + (f.late_resp AND f.due_resp <= %(now)s)::int
      + (f.late_res AND f.due_res <= %(now)s)::int
      + (f.rated AND f.rating = 'unsatisfied' AND NOT f.rejected AND NOT f.merged AND f.t_rate <= %(now)s)::int) AS level,
    CASE WHEN f.rejected OR f.merged THEN f.t_acc
         WHEN f.rated AND f.rating = 'unsatisfied' THEN f.t_rate2
         WHEN f.rated THEN f.t_rate ELSE f.t_unrated_close END AS closed_at
  FROM bench_final f
) s
"""


def _event(
    seq: int,
    action: str,
    at: str,
    condition: str,
    data: str = "'{}'::jsonb",
    *,
    from_state: str = "''",
    to_state: str = "''",
    from_level: str = "NULL::int",
    to_level: str = "NULL::int",
    label: str = "''",
) -> str:
    return f"({seq}, '{action}', {at}, {condition}, {data}, {from_state}, {to_state}, {from_level}, {to_level}, {label})"


def _level(extra: str) -> str:
    return f"LEAST(3, f.level0 + {extra})"


LIVE = "NOT f.rejected AND NOT f.merged"
SECOND_ROUND = f"f.rated AND f.rating = 'unsatisfied' AND {LIVE}"
EVENTS = [
    _event(
        0,
        "submitted",
        "f.t_sub",
        "true",
        "jsonb_build_object('channel', f.channel, 'category', f.category_code)",
        to_state="'submitted'",
        to_level="f.level0",
        label="'resident'",
    ),
    _event(
        1,
        "escalated",
        "f.due_resp",
        "f.late_resp",
        "jsonb_build_object('overdue', 'response', 'reminders', 1)",
        from_level="f.level0",
        to_level=_level("1"),
        label="'system'",
    ),
    _event(
        2,
        "accepted",
        "f.t_acc",
        LIVE,
        "jsonb_build_object('due', f.due_resp, 'on_time', NOT f.late_resp)",
        from_state="'submitted'",
        to_state="'accepted'",
    ),
    _event(2, "rejected", "f.t_acc", "f.rejected", from_state="'submitted'", to_state="'rejected'"),
    _event(
        2,
        "merged",
        "f.t_acc",
        "f.merged",
        "jsonb_build_object('into', 'earlier')",
        from_state="'submitted'",
        to_state="'merged'",
    ),
    _event(
        3,
        "whistled",
        "f.t_wh",
        f"f.whistled AND {LIVE}",
        "jsonb_build_object('whistle', f.id, 'departments', jsonb_build_array(f.department_id), 'names', f.department_name)",
        from_state="'accepted'",
        to_state="'in_progress'",
    ),
    _event(
        4,
        "reported_in",
        "f.t_rep",
        f"f.whistled AND {LIVE}",
        "jsonb_build_object('summons', f.id, 'whistle', f.id, 'department', f.department_id, 'late', f.report_after > 7200)",
        label="f.department_name",
    ),
    _event(
        5,
        "department_acted",
        "f.t_act",
        f"f.whistled AND {LIVE}",
        "jsonb_build_object('summons', f.id, 'department', f.department_id)",
        label="f.department_name",
    ),
    _event(6, "confirmed", "f.t_conf", f"f.whistled AND {LIVE}", "jsonb_build_object('whistle', f.id)"),
    _event(
        7,
        "escalated",
        "f.due_res",
        "f.late_res",
        "jsonb_build_object('overdue', 'resolution', 'reminders', 1 + f.late_resp::int)",
        from_level=_level("f.late_resp::int"),
        to_level=_level("f.late_resp::int + 1"),
        label="'system'",
    ),
    _event(
        8,
        "resolved",
        "f.t_res",
        LIVE,
        "jsonb_build_object('due', f.due_res, 'on_time', f.t_res <= f.due_res)",
        from_state="CASE WHEN f.whistled THEN 'in_progress' ELSE 'accepted' END",
        to_state="'resolved'",
    ),
    _event(
        9,
        "rated",
        "f.t_rate",
        f"f.rated AND {LIVE}",
        "jsonb_build_object('rating', f.rating)",
        label="'resident'",
    ),
    _event(
        10,
        "closed",
        "f.t_rate",
        f"f.rated AND f.rating <> 'unsatisfied' AND {LIVE}",
        from_state="'resolved'",
        to_state="'closed'",
        label="'resident'",
    ),
    _event(
        10,
        "closed",
        "f.t_unrated_close",
        f"NOT f.rated AND {LIVE}",
        "jsonb_build_object('unrated', true)",
        from_state="'resolved'",
        to_state="'closed'",
        label="'system'",
    ),
    _event(
        10,
        "reopened",
        "f.t_rate",
        SECOND_ROUND,
        from_state="'resolved'",
        to_state="'reopened'",
        from_level=_level("f.late_resp::int + f.late_res::int"),
        to_level=_level("f.late_resp::int + f.late_res::int + 1"),
        label="'resident'",
    ),
    _event(
        11,
        "accepted",
        "f.t_acc2",
        SECOND_ROUND,
        "jsonb_build_object('on_time', true)",
        from_state="'reopened'",
        to_state="'accepted'",
    ),
    _event(
        12,
        "resolved",
        "f.t_res2",
        SECOND_ROUND,
        "jsonb_build_object('on_time', f.t_res2 <= f.t_rate + make_interval(mins => f.resolution_min))",
        from_state="'accepted'",
        to_state="'resolved'",
    ),
    _event(
        13,
        "rated",
        "f.t_rate2",
        SECOND_ROUND,
        "jsonb_build_object('rating', 'satisfied')",
        label="'resident'",
    ),
    _event(
        14,
        "closed",
        "f.t_rate2",
        SECOND_ROUND,
        from_state="'resolved'",
        to_state="'closed'",
        label="'resident'",
    ),
]

EVENTS_SQL = """
INSERT INTO tickets_ticketevent (id, ticket_id, at, actor_id, actor_label, action, from_state, to_state,
  from_level, to_level, note, is_public, data)
SELECT f.id * 16 + e.seq, f.id, e.at, NULL, e.label, e.action, e.from_state, e.to_state, e.from_level, e.to_level,
  '', e.action <> 'escalated', e.data
FROM bench_final f
CROSS JOIN LATERAL (VALUES {events}) AS e(seq, action, at, wanted, data, from_state, to_state, from_level, to_level, label)
WHERE e.wanted AND e.at <= %(now)s
"""

WHISTLES_SQL = f"""
INSERT INTO tickets_whistle (id, ticket_id, level, node_id, note, created_by_id, created_at, confirmed_at, confirmed_by_id)
SELECT f.id, f.id, 1, f.grid_id, '需要专业部门到场处置，请按时报到。', NULL, f.t_wh,
  CASE WHEN f.t_conf <= %(now)s THEN f.t_conf END, NULL
FROM bench_final f WHERE f.whistled AND {LIVE} AND f.t_wh <= %(now)s;
INSERT INTO tickets_summons (id, whistle_id, department_id, due_at, reported_at, reported_by_id, action_note, acted_at,
  reminded_at)
SELECT f.id, f.id, f.department_id, f.t_wh + interval '2 hours', CASE WHEN f.t_rep <= %(now)s THEN f.t_rep END, NULL,
  CASE WHEN f.t_act <= %(now)s THEN '已完成现场处置。' ELSE '' END, CASE WHEN f.t_act <= %(now)s THEN f.t_act END, NULL
FROM bench_final f WHERE f.whistled AND {LIVE} AND f.t_wh <= %(now)s;
"""

BULK_TABLES = ("tickets_ticket", "tickets_ticketevent")


def _secondary_indexes(cursor: Any) -> list[tuple[str, str]]:
    """The indexes of the big tables that no constraint needs (dropped for the load, built after)."""
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [list(BULK_TABLES)],
    )
    return list(cursor.fetchall())


CHUNK_TICKETS = 500_000


def _setup_tables(
    cursor: Any,
    plan: Sequence[tuple[dt.date, int, int]],
    first_id: int,
    grids: list[Any],
    texts: dict[int, list[str]],
) -> int:
    """The plan, the grids and the categories as small tables; returns the number of chunks."""
    from gongzhi.tickets.models import Category

    for table in ("bench_day", "bench_grid", "bench_category", "bench_final"):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(
        "CREATE UNLOGGED TABLE bench_day (day date, category_id bigint, n int, first_id bigint, chunk int)"
    )
    rows, next_id, chunk, in_chunk = [], first_id, 0, 0
    for day, category, count in plan:
        if in_chunk >= CHUNK_TICKETS:
            chunk, in_chunk = chunk + 1, 0
        rows.append((day, category, count, next_id + 1, chunk))
        next_id += count
        in_chunk += count
    for start in range(0, len(rows), 5000):
        cursor.executemany("INSERT INTO bench_day VALUES (%s, %s, %s, %s, %s)", rows[start : start + 5000])
    cursor.execute(
        "CREATE UNLOGGED TABLE bench_grid (idx int, grid_id bigint, community_id bigint, subdistrict_id bigint, "
        "entrances bigint[])"
    )
    cursor.executemany(
        "INSERT INTO bench_grid VALUES (%s, %s, %s, %s, %s)",
        [
            (index, grid, community, sub, entrances)
            for index, (grid, community, sub, entrances) in enumerate(grids)
        ],
    )
    cursor.execute(
        "CREATE UNLOGGED TABLE bench_category (category_id bigint, category_code text, kind text, default_level int, "
        "response_minutes int, resolution_minutes int, department_id bigint, department_name text, descriptions text[])"
    )
    for category in Category.objects.prefetch_related("departments"):
        department = min(category.departments.all(), key=lambda organization: organization.pk, default=None)
        cursor.execute(
            "INSERT INTO bench_category VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                category.pk,
                category.code,
                category.kind,
                category.default_level,
                category.response_minutes,
                category.resolution_minutes,
                department.pk if department else None,
                department.name if department else None,
                texts[category.pk],
            ],
        )
    cursor.execute("ANALYZE bench_day; ANALYZE bench_grid; ANALYZE bench_category")
    return chunk + 1


def generate(
    *,
    plan: Sequence[tuple[dt.date, int, int]],
    first_id: int,
    grids: list[Any],
    texts: dict[int, list[str]],
    now: dt.datetime,
) -> tuple[int, int]:
    """Insert the planned tickets (ids from first_id + 1) and their histories up to `now`, set-wise, a
    chunk of about CHUNK_TICKETS tickets per transaction."""
    from django.db import connection, transaction

    from gongzhi.core import clock
    from gongzhi.core.demo.tickets import CHANNELS, HOURS

    weights = [weight for _, weight in CHANNELS]
    channels = [sum(weights[:i]) / sum(weights) for i in range(1, len(weights))]
    hours = [sum(HOURS[:i]) / sum(HOURS) for i in range(1, len(HOURS))]
    draws = {f"u{salt}": uniform(salt) for salt in (1, 2, 3, 4, 5, 6, 7, 8, 9, 14, 15, 16, 17, 18, 19, 22)}
    draws.update({f"z{salt}": normal(salt) for salt in (10, 12, 20)})
    plan_sql = PLAN_SQL.format(**draws)
    events_sql = EVENTS_SQL.format(events=", ".join(EVENTS))
    tickets = events = 0
    with connection.cursor() as cursor:
        chunks = _setup_tables(cursor, plan, first_id, grids, texts)
    for chunk in range(chunks):
        params = {
            "now": now,
            "today": clock.localtime(now).date(),
            "grids": len(grids),
            "channels": channels,
            "hours": hours,
            "chunk": chunk,
        }
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")  # no FK triggers for the load
            cursor.execute("SET LOCAL work_mem = '256MB'")
            marks = [time.perf_counter()]
            for sql in (plan_sql, TICKETS_SQL, events_sql, WHISTLES_SQL):
                cursor.execute(sql, params)
                if sql is TICKETS_SQL:
                    tickets += cursor.rowcount
                elif sql is events_sql:
                    events += cursor.rowcount
                marks.append(time.perf_counter())
            cursor.execute("DROP TABLE bench_final")
            steps = ", ".join(f"{b - a:.1f}" for a, b in itertools.pairwise(marks))
        print(
            f"    chunk {chunk + 1}/{chunks}: {tickets:,} tickets, {events:,} events "
            f"(plan, tickets, events, whistles: {steps} s); {machine()}",
            flush=True,
        )
    with connection.cursor() as cursor:
        for table in ("bench_day", "bench_grid", "bench_category"):
            cursor.execute(f"DROP TABLE {table}")
    return tickets, events


def load(**kwargs: Any) -> tuple[int, int]:
    """`generate` with the big tables' secondary indexes dropped during the load and built after."""
    from django.db import connection

    with connection.cursor() as cursor:
        indexes = _secondary_indexes(cursor)
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    began = time.perf_counter()
    tickets, events = generate(**kwargs)
    loaded = time.perf_counter() - began
    with connection.cursor() as cursor:
        began = time.perf_counter()
        for _name, definition in indexes:
            cursor.execute(definition)
        for table in ("tickets_ticket", "tickets_ticketevent", "tickets_whistle", "tickets_summons"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
        cursor.execute("ANALYZE")
    print(
        f"  generated {tickets:,} tickets and {events:,} events in {loaded:.0f} s; "
        f"{len(indexes)} indexes built and analysed in {time.perf_counter() - began:.0f} s; database {database_size()}"
    )
    return tickets, events


# --- Measurements ---------------------------------------------------------------------------------


def timed(function: Callable[[], Any], runs: int) -> tuple[float, float, float, Any]:
    """Median and worst wall time (ms) and median CPU time (ms) of `runs` calls, after one warm-up."""
    result = function()
    walls, cpus = [], []
    for _ in range(runs):
        began, began_cpu = time.perf_counter(), cpu()
        result = function()
        walls.append((time.perf_counter() - began) * 1000)
        cpus.append((cpu() - began_cpu) * 1000)
    return statistics.median(walls), max(walls), statistics.median(cpus), result


def dashboards(world: dict[str, Any], runs: int, label: str) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from gongzhi.territory.models import Node

    if not getattr(dashboards, "ready", False):
        setup_test_environment()  # the test client's host name is allowed
        dashboards.ready = True  # type: ignore[attr-defined]
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(world["admin"])
    found = {}
    for name, node in (("subdistrict", Node.objects.get(code="S0")), ("district", world["district"])):
        url = f"/insight/nodes/{node.pk}/"

        def render(url: str = url) -> Any:
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            return response

        render()  # the first one loads the templates and the translations
        began_cpu, began_db = cpu(), database_cpu()
        median, worst, cpu_ms, _response = timed(render, runs)
        note = cpu_note(began_cpu, began_db, runs + 1, "render")
        with CaptureQueriesContext(connection) as queries:
            render()
        slowest = sorted(queries.captured_queries, key=lambda q: float(q["time"]), reverse=True)[:3]
        found[name] = {
            "median": median,
            "worst": worst,
            "cpu": cpu_ms,
            "queries": len(queries.captured_queries),
        }
        print(
            f"  {label} {name} dashboard: median {median:.1f} ms, worst {worst:.1f} ms, {note}, "
            f"{len(queries.captured_queries)} queries; slowest: "
            + ", ".join(f"{float(q['time']) * 1000:.1f} ms" for q in slowest)
        )
    return found


def fresh_dashboards(args: argparse.Namespace, label: str) -> dict[str, Any]:
    """The dashboards timed in a new process, as a web worker would serve them: this one has just
    generated and folded millions of rows, and its garbage collector would be timed with them."""
    import json
    import subprocess
    import tempfile

    from django.db import connection

    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            sys.executable,
            __file__,
            "--reuse",
            connection.settings_dict["NAME"],
            "--steps",
            "dashboards",
            "--runs",
            str(args.runs),
            "--label",
            label,
            "--json",
            out.name,
            "--workdir",
            args.workdir,
        ]
        subprocess.run(command, check=True, stdout=sys.stdout, stderr=sys.stderr)
        return dict(json.loads(Path(out.name).read_text()))


def rebuild(label: str) -> float:
    from django.db import connection

    from gongzhi.insight.services import rollups_rebuild

    began, began_cpu, began_db = time.perf_counter(), cpu(), database_cpu()
    result = rollups_rebuild()
    seconds = time.perf_counter() - began
    ended_db = database_cpu()
    database = (
        f" + {ended_db - began_db:.0f} s of the database"
        if began_db is not None and ended_db is not None
        else ""
    )
    began_vacuum = time.perf_counter()
    with connection.cursor() as cursor:  # what autovacuum does soon after: visibility map, statistics
        cursor.execute("VACUUM (ANALYZE)")
    vacuumed = time.perf_counter() - began_vacuum
    print(
        f"  rollups_rebuild at {label}: {result.events:,} events in {seconds:.1f} s "
        f"({result.events / seconds:,.0f} events/s; CPU {cpu() - began_cpu:.0f} s of this process{database}); "
        f"then VACUUM (ANALYZE) in {vacuumed:.0f} s; {machine()}"
    )
    return seconds


def stream(world: dict[str, Any], submissions: int, seed: int, batch: int = 0) -> dict[str, Any]:
    """Real events through the real services, appended to the big database; then the fold timed."""
    from django.db.models import Max

    from gongzhi.accounts.scope import resolve_actor
    from gongzhi.core.errors import ApplicationError
    from gongzhi.insight.models import RollupMark
    from gongzhi.insight.services import rollups_update
    from gongzhi.tickets.models import Category, Summons, Ticket, TicketEvent
    from gongzhi.tickets.services import handling
    from gongzhi.tickets.services.intake import TicketInput, ticket_submit
    from gongzhi.tickets.services.sweep import tickets_sweep
    from gongzhi.tickets.workflow import TicketState

    rng = random.Random(seed)
    root = resolve_actor(world["root"])
    handler = resolve_actor(world["handler"])
    start_mark = RollupMark.objects.get(pk=1).last_event_id
    first_event = (TicketEvent.objects.aggregate(high=Max("pk"))["high"] or 0) + 1
    codes = list(Category.objects.filter(is_active=True).values_list("code", flat=True))
    texts = descriptions(rng)
    by_code = dict(Category.objects.values_list("code", "pk"))
    entrances = [entrance for _g, _c, _s, grid_entrances in world["grids"] for entrance in grid_entrances]
    began = time.perf_counter()
    refused = 0

    def attempt(call: Callable[[], Any]) -> Any:
        nonlocal refused
        try:
            return call()
        except ApplicationError:
            refused += 1
            return None

    new = []
    for index in range(submissions):
        code = rng.choice(codes)
        data = TicketInput(
            node_id=rng.choice(entrances),
            category_code=code,
            description=rng.choice(texts[by_code[code]]),
            channel=rng.choice(["doorplate", "doorplate", "web", "api"]),
            reporter_phone=f"139{index:08d}"[:11],
        )
        ticket = attempt(lambda data=data: ticket_submit(actor=None, data=data))
        if ticket is not None:
            new.append(ticket.pk)
    waiting = list(
        Ticket.objects.filter(state=TicketState.SUBMITTED)
        .order_by("-submitted_at")
        .values_list("pk", flat=True)[: submissions // 2]
    )
    accepted = []
    for pk in new[: int(len(new) * 0.8)] + waiting:
        if attempt(lambda pk=pk: handling.ticket_accept(actor=root, ticket_id=pk)) is not None:
            accepted.append(pk)
    whistled = accepted[: max(1, len(accepted) // 40)]
    chengguan = world["departments"]["chengguan"].pk
    for pk in whistled:
        attempt(
            lambda pk=pk: handling.ticket_whistle(
                actor=root, ticket_id=pk, department_ids=[chengguan], note="请到场处置"
            )
        )
    for summons in Summons.objects.filter(whistle__ticket_id__in=whistled, reported_at__isnull=True):
        attempt(lambda s=summons.pk: handling.summons_report_in(actor=handler, summons_id=s))
    in_hand = list(
        Ticket.objects.filter(state=TicketState.ACCEPTED)
        .order_by("-submitted_at")
        .values_list("pk", flat=True)[:submissions]
    )
    for pk in in_hand:
        attempt(lambda pk=pk: handling.ticket_resolve(actor=root, ticket_id=pk, note="已处理完毕"))
    resolved = list(
        Ticket.objects.filter(state=TicketState.RESOLVED)
        .order_by("-resolved_at")
        .values_list("follow_token", flat=True)[:submissions]
    )
    for token in resolved:
        rating = rng.choices(["satisfied", "basically_satisfied", "unsatisfied"], [78, 16, 6])[0]
        attempt(lambda token=token, rating=rating: handling.ticket_rate(token=token, rating=rating))
    sweep = tickets_sweep()
    made = time.perf_counter() - began
    events = TicketEvent.objects.filter(pk__gte=first_event).count()
    kinds = dict(
        TicketEvent.objects.filter(pk__gte=first_event)
        .values_list("action")
        .annotate(n=Max("pk"))
        .values_list("action", "n")
    )
    print(
        f"  stream: {events:,} events made through the services in {made:.0f} s ({refused} moves refused, "
        f"sweep escalated {sweep.escalated}, reminded {sweep.reminded}, closed {sweep.closed}); actions: {', '.join(sorted(kinds))}"
    )
    from gongzhi.tickets.text import initialize

    initialize()  # a worker loads jieba's dictionary once, at start-up
    profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
    began, began_cpu, began_db = time.perf_counter(), cpu(), database_cpu()
    if profile is not None:
        profile.enable()
    result = rollups_update(settle_seconds=0, **({"batch": batch} if batch else {}))
    seconds, cpu_seconds = time.perf_counter() - began, cpu() - began_cpu
    note = cpu_note(began_cpu, began_db, max(1, result.events // 1000), "1,000 events")
    if profile is not None:
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    assert result.events >= events, (result.events, events)
    folded = result.events
    print(
        f"  rollups_update: {folded:,} events (mark {start_mark:,} → {result.last_event_id:,}) in {seconds:.2f} s = "
        f"{folded / seconds:,.0f} events/s ({folded / cpu_seconds:,.0f}/s of this process's CPU time; {note}); {machine()}"
    )
    return {"events": folded, "seconds": seconds, "rate": folded / seconds, "cpu_rate": folded / cpu_seconds}


def monthly_reports(world: dict[str, Any]) -> dict[str, Any]:
    """Each report queued and run: huey's immediate mode runs `monthly_report_run` at once."""
    from gongzhi.accounts.scope import resolve_actor
    from gongzhi.core import clock
    from gongzhi.insight.models import MonthlyReport
    from gongzhi.insight.report import monthly_report_create
    from gongzhi.territory.models import Node

    admin = resolve_actor(world["admin"])
    month = (clock.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    found = {}
    for name, node in (("district", world["district"]), ("subdistrict", Node.objects.get(code="S0"))):
        began, began_cpu = time.perf_counter(), cpu()
        queued = monthly_report_create(actor=admin, node_id=node.pk, month=month, language="zh-hans")
        seconds = time.perf_counter() - began
        report = MonthlyReport.objects.get(pk=queued.pk)
        assert report.status == "succeeded", (report.status, report.error)
        found[name] = seconds
        print(
            f"  monthly report {month:%Y-%m} of the {name}: PDF + xlsx in {seconds:.2f} s "
            f"(CPU {cpu() - began_cpu:.2f} s); PDF {report.pdf_file.size / 1024:.0f} kB, "
            f"xlsx {report.xlsx_file.size / 1024:.0f} kB"
        )
    return found


def check_figures() -> None:
    """The district's roll-ups add up to the raw tables (a cheap check at any size)."""
    from django.db.models import Count, Sum

    from gongzhi.insight.models import NodeDailyRollup, NodeOpenRollup
    from gongzhi.territory.models import Node
    from gongzhi.tickets.models import Ticket
    from gongzhi.tickets.workflow import OPEN_STATES

    district = Node.objects.get(code="D")
    received = NodeDailyRollup.objects.filter(node=district).aggregate(n=Sum("received"))["n"] or 0
    tickets = Ticket.objects.exclude(state="merged").aggregate(n=Count("pk"))["n"]
    opened = NodeOpenRollup.objects.filter(node=district).first()
    open_now = Ticket.objects.filter(state__in=OPEN_STATES).count()
    assert received == tickets, (received, tickets)
    assert opened is not None and opened.awaiting_response + opened.awaiting_resolution == open_now
    print(
        f"  checked: the district's roll-ups count {received:,} tickets received and {open_now:,} open, as the tickets do"
    )


# --- Main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=10_000_000)
    parser.add_argument(
        "--small", type=int, default=100_000, help="the first, recent, part measured on its own"
    )
    parser.add_argument("--years", type=float, default=5.2, help="the history the tickets span")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--stream", type=int, default=2000, help="tickets submitted through the services")
    parser.add_argument(
        "--batch", type=int, default=0, help="events per roll-up transaction (default: the worker's)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (to look at it afterwards)")
    parser.add_argument("--label", default="", help=argparse.SUPPRESS)  # the child that times the dashboards
    parser.add_argument("--json", default="", help=argparse.SUPPRESS)
    parser.add_argument("--reuse", metavar="DATABASE", help="measure again on a database kept by --keep")
    parser.add_argument(
        "--steps",
        default="small,big,stream,reports",
        help="with --reuse: rebuild,dashboards,stream,reports (comma-separated)",
    )
    parser.add_argument("--workdir", default=str(ROOT / "var" / "bench-insight"))
    args = parser.parse_args()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    if not args.reuse:
        check_disk(args.tickets)
    cleanup = setup_django(args)
    try:
        return run(args)
    finally:
        cleanup()


def run(args: argparse.Namespace) -> int:
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {machine()}")
    steps = set(args.steps.split(","))
    if args.reuse:
        return again(args, existing_district(), steps)
    from gongzhi.core import clock

    world = build_district()
    now = clock.now()
    today = clock.localtime(now).date()
    days = round(args.years * 365)
    plan = day_plan(today, days, args.tickets)
    # The recent part first: the last days whose tickets add up to --small.
    recent, count = [], 0
    for row in reversed(plan):
        if count >= args.small:
            break
        recent.append(row)
        count += row[2]
    older = plan[: len(plan) - len(recent)]
    texts = descriptions(random.Random(7))
    grids = world["grids"]
    shape = tree.shape(HOUSEHOLDS)
    print(
        f"district: 1 district, {shape['subdistricts']} subdistricts, {shape['communities']} communities, "
        f"{len(grids)} grids; {args.tickets:,} tickets over {days:,} days ({args.tickets / days:,.0f} a day)"
    )
    results: dict[str, Any] = {}
    print(f"1. the last {len({day for day, _, _ in recent})} days: {count:,} tickets")
    load(plan=sorted(recent), first_id=0, grids=grids, texts=texts, now=now)
    rebuild(f"{count:,} tickets")
    check_figures()
    results["small"] = fresh_dashboards(args, f"{count:,}")
    results["small_reports"] = monthly_reports(world)
    if "big" not in steps:
        return 0
    print(f"2. the {len({day for day, _, _ in older}):,} days before: {args.tickets - count:,} tickets more")
    load(plan=older, first_id=count, grids=grids, texts=texts, now=now)
    results["rebuild"] = rebuild(f"{args.tickets:,} tickets")
    check_figures()
    results["big"] = fresh_dashboards(args, f"{args.tickets:,}")
    print("3. a stream of real events")
    results["stream"] = stream(world, args.stream, seed=11, batch=args.batch)
    results["big_after_stream"] = fresh_dashboards(args, f"{args.tickets:,} (after the stream)")
    print("4. monthly reports")
    results["reports"] = monthly_reports(world)
    print(f"database size: {database_size()}")
    summary(results)
    return 0


def again(args: argparse.Namespace, world: dict[str, Any], steps: set[str]) -> int:
    """Measure again on a kept database (the code may have changed since it was made)."""
    from gongzhi.tickets.models import Ticket

    tickets = Ticket.objects.count()
    print(f"{tickets:,} tickets stored; database {database_size()}")
    if "rebuild" in steps:
        rebuild(f"{tickets:,} tickets")
        check_figures()
    if "dashboards" in steps:
        found = dashboards(world, args.runs, args.label or f"{tickets:,}")
        if args.json:
            Path(args.json).write_text(__import__("json").dumps(found))
    if "stream" in steps:
        stream(world, args.stream, seed=int(time.time()), batch=args.batch)
        dashboards(world, args.runs, f"{tickets:,} (after the stream)")
    if "reports" in steps:
        monthly_reports(world)
    return 0


def summary(results: dict[str, Any]) -> None:
    small, big = results["small"], results["big"]
    print("\nsummary (targets of issue 5)")
    for name in ("subdistrict", "district"):
        ratio = big[name]["median"] / small[name]["median"]
        print(
            f"  {name} dashboard: {small[name]['median']:.1f} ms → {big[name]['median']:.1f} ms median "
            f"(worst {big[name]['worst']:.1f} ms, {big[name]['queries']} queries): {ratio:.2f}× "
            f"[≤ 100 ms: {'yes' if big[name]['median'] <= 100 else 'NO'}; within 20 %: {'yes' if ratio <= 1.2 else 'NO'}]"
        )
    stream = results["stream"]
    print(
        f"  roll-ups: {stream['rate']:,.0f} events/s ({stream['cpu_rate']:,.0f}/s CPU) "
        f"[≥ 5,000/s: {'yes' if stream['rate'] >= 5000 else 'NO'}]"
    )
    worst = max(results["reports"].values())
    print(f"  monthly report PDF + xlsx: {worst:.2f} s at most [≤ 5 s: {'yes' if worst <= 5 else 'NO'}]")
    print(f"  rollups_rebuild at full size: {results['rebuild']:.0f} s; {machine()}")


if __name__ == "__main__":
    sys.exit(main())
