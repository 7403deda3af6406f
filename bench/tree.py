"""City-size tree benchmark: import a whole district's households, then time the reads.

    .venv/bin/python bench/tree.py [--households 2000000] [--batch 50000]

What it does, on its own throw-away database (SQLite in a temporary folder, or a fresh
`test_…` database on the PostgreSQL server named by GONGZHI_DATABASE_URL):

1. Imports the territory (one district, subdistricts, communities, grids, compounds,
   buildings, entrances) through the real territory import service.
2. Imports the household roster through the real roster import service
   (`gongzhi.imports.services.import_rows`: the same checks, matching, bulk writes, roll-ups
   and audit row as an uploaded file), in batches of about --batch households, each batch
   one all-or-nothing import as one community office would upload it. The rows are generated
   in memory, cells exactly as openpyxl yields them, because parsing a 2,000,000-row xlsx would
   measure openpyxl rather than the import. The xlsx parse rate is measured separately on a
   real file (--xlsx-rows rows), and that file is then imported end to end (a re-import:
   nothing changes, everything is matched and compared).
3. Times the reads the staff pages make: a subdistrict's resident count (from the NodeStats
   roll-up, as the home page reads it) and the first page (50) of one grid's households.
4. Checks the roll-ups against the raw tables and prints the peak memory of the process.

Targets (issue 3): >= 5,000 households/s imported on SQLite; counts and listings <= 50 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The shape of the city: a grid holds 2 compounds × 6 buildings × 3 entrances × 12 households.
COMPOUNDS_PER_GRID = 2
BUILDINGS_PER_COMPOUND = 6
ENTRANCES_PER_BUILDING = 3
FLOORS = 6
DOORS_PER_FLOOR = 2
HOUSEHOLDS_PER_ENTRANCE = FLOORS * DOORS_PER_FLOOR
HOUSEHOLDS_PER_GRID = (
    COMPOUNDS_PER_GRID * BUILDINGS_PER_COMPOUND * ENTRANCES_PER_BUILDING * HOUSEHOLDS_PER_ENTRANCE
)
GRIDS_PER_COMMUNITY = 8
COMMUNITIES_PER_SUBDISTRICT = 20

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "秀英华明丽强军平芳敏静伟磊洋勇艳杰娟涛超霞刚桂兰玉梅建国志红文斌海燕飞鹏辉"
BIRTH_START = dt.date(1940, 1, 1)
TAGS = ("独居老人", "残疾人", "低保", "退役军人", "0–3岁婴幼儿家庭")


def setup_django(workdir: str) -> Callable[[], None]:
    """Configure Django like the test settings, on a throw-away database. Returns a cleanup."""
    os.environ.setdefault("GONGZHI_SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef")
    os.environ["GONGZHI_ALLOW_DERIVED_KEYS"] = "1"
    os.environ["GONGZHI_HTTPS"] = "0"
    os.environ["GONGZHI_HUEY_IMMEDIATE"] = "1"
    os.environ["GONGZHI_LOCMEM_CACHE"] = "1"
    os.environ["GONGZHI_STATIC_MANIFEST"] = "0"
    os.environ["GONGZHI_VAR_DIR"] = workdir  # the SQLite database and uploads live here
    os.environ.setdefault("GONGZHI_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "gongzhi.config.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "sqlite":
        call_command("migrate", verbosity=0)
        return lambda: None
    # PostgreSQL: a fresh test_<name> database, dropped at the end.
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    return lambda: connection.creation.destroy_test_db(old_name, verbosity=0)


# --- the city -----------------------------------------------------------------------------------


def shape(households: int) -> dict[str, int]:
    grids = max(1, math.ceil(households / HOUSEHOLDS_PER_GRID))
    communities = max(1, math.ceil(grids / GRIDS_PER_COMMUNITY))
    subdistricts = max(1, math.ceil(communities / COMMUNITIES_PER_SUBDISTRICT))
    return {"grids": grids, "communities": communities, "subdistricts": subdistricts}


def grid_codes(households: int) -> Iterator[tuple[int, int, int]]:
    """(subdistrict, community, grid) numbers of every grid, in order."""
    figures = shape(households)
    for grid in range(figures["grids"]):
        community = grid // GRIDS_PER_COMMUNITY
        yield community // COMMUNITIES_PER_SUBDISTRICT, community, grid


def territory_rows(households: int) -> list[tuple[int, dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    seen_sub: set[int] = set()
    seen_community: set[int] = set()
    for sub, community, grid in grid_codes(households):
        if sub not in seen_sub:
            seen_sub.add(sub)
            rows.append({"level": "街道", "code": f"S{sub}", "name": f"第{sub + 1}街道", "parent_code": "D"})
        if community not in seen_community:
            seen_community.add(community)
            rows.append(
                {
                    "level": "社区",
                    "code": f"C{community}",
                    "name": f"第{community + 1}社区",
                    "parent_code": f"S{sub}",
                }
            )
        g = f"G{grid}"
        rows.append(
            {
                "level": "网格",
                "code": g,
                "name": f"第{grid % GRIDS_PER_COMMUNITY + 1}网格",
                "parent_code": f"C{community}",
            }
        )
        for compound in range(COMPOUNDS_PER_GRID):
            c = f"{g}-X{compound}"
            rows.append(
                {
                    "level": "小区",
                    "code": c,
                    "name": f"幸福{grid}-{compound}小区",
                    "parent_code": g,
                    "year_built": 1990 + (grid + compound) % 30,
                    "heating": "集中供暖",
                    "property_manager": "无",
                }
            )
            for building in range(BUILDINGS_PER_COMPOUND):
                b = f"{c}-B{building}"
                rows.append(
                    {
                        "level": "楼栋",
                        "code": b,
                        "name": f"{building + 1}号楼",
                        "parent_code": c,
                        "floors": FLOORS,
                    }
                )
                for entrance in range(ENTRANCES_PER_BUILDING):
                    rows.append(
                        {
                            "level": "单元",
                            "code": f"{b}-U{entrance}",
                            "name": f"{entrance + 1}单元",
                            "parent_code": b,
                        }
                    )
    return list(enumerate(rows, start=2))


class People:
    """Deterministic residents with valid, unique ID numbers and phones."""

    def __init__(self) -> None:
        from gongzhi.core.personal import id_check_digit

        self.check = id_check_digit
        self.serial = 0

    def next_id(self) -> tuple[str, int]:
        self.serial += 1
        serial = self.serial
        # 25,550 birth days (1940-2009) × 1,000 sequence numbers: unique for 25 million people.
        born = BIRTH_START + dt.timedelta(days=serial % 25550)
        first17 = f"370882{born:%Y%m%d}{serial // 25550 % 1000:03d}"
        return first17 + self.check(first17), born.year

    def name(self, index: int) -> str:
        return (
            SURNAMES[index % len(SURNAMES)] + GIVEN[index * 7 % len(GIVEN)] + GIVEN[index * 13 % len(GIVEN)]
        )


def roster_rows(
    grids: list[tuple[int, int, int]], people: People, limit: int, start: int
) -> tuple[list[tuple[int, dict[str, Any]]], int]:
    """Rows for the households of these grids (1-3 people each, 2 on average). Returns (rows, households)."""
    rows: list[dict[str, Any]] = []
    count = 0
    for _, _, grid in grids:
        for compound in range(COMPOUNDS_PER_GRID):
            for building in range(BUILDINGS_PER_COMPOUND):
                for entrance in range(ENTRANCES_PER_BUILDING):
                    code = f"G{grid}-X{compound}-B{building}-U{entrance}"
                    for floor in range(1, FLOORS + 1):
                        for door in range(1, DOORS_PER_FLOOR + 1):
                            if start + count >= limit:
                                return list(enumerate(rows, start=2)), count
                            index = start + count
                            count += 1
                            rows.extend(_household(people, code, f"{floor}0{door}", index))
    return list(enumerate(rows, start=2)), count


def _household(people: People, code: str, door: str, index: int) -> list[dict[str, Any]]:
    base = {
        "building_code": code,
        "door_number": door,
        "floor_area": 60 + index % 90 + 0.5,
        "party_household": "是" if index % 17 == 0 else "否",
    }
    owner_id, owner_year = people.next_id()
    members = [
        {
            **base,
            "name": people.name(index),
            "phone": f"13{index % 7 + 3}{index:08d}"[:11],
            "id_number": owner_id,
            "gender": "男" if index % 2 else "女",
            "birth_year": owner_year,
            "relation": "业主",
            "tags": TAGS[index % len(TAGS)] if index % 9 == 0 else None,
        }
    ]
    size = (1, 2, 2, 3)[index % 4]
    if size >= 2:
        spouse_id, _ = people.next_id()
        members.append(
            {**base, "name": people.name(index + 1), "id_number": spouse_id, "relation": "家庭成员"}
        )
    if size >= 3:
        members.append(
            {**base, "name": people.name(index + 2) + "儿", "relation": "家庭成员", "birth_year": 2012}
        )
    return members


# --- measuring ------------------------------------------------------------------------------


def timed(function: Callable[[], Any], repeat: int = 21) -> tuple[float, float, Any]:
    """(median ms, worst ms, last result) over `repeat` runs."""
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), max(times), result


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=2_000_000)
    parser.add_argument("--batch", type=int, default=50_000, help="households per import (one transaction)")
    parser.add_argument(
        "--xlsx-rows", type=int, default=20_000, help="rows of the real xlsx file for the parse rate"
    )
    parser.add_argument(
        "--verify", choices=("auto", "yes", "no"), default="auto", help="compare roll-ups with stats_rebuild"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gongzhi-bench-") as workdir:
        cleanup = setup_django(workdir)
        try:
            return run(args, Path(workdir))
        finally:
            cleanup()


def run(args: argparse.Namespace, workdir: Path) -> int:
    from django.db import connection

    from gongzhi.accounts.models import Role, RoleAssignment, User
    from gongzhi.accounts.scope import resolve_actor
    from gongzhi.imports.services import import_file, import_rows
    from gongzhi.people.models import Person
    from gongzhi.territory.models import Node, NodeKind, NodeStats
    from gongzhi.territory.selectors import households_in, node_get
    from gongzhi.territory.services import node_create

    target = args.households
    figures = shape(target)
    print(f"Gongzhi tree benchmark on {connection.vendor} ({connection.settings_dict['NAME']})")
    print(
        f"city: 1 district, {figures['subdistricts']} subdistricts, {figures['communities']} communities, "
        f"{figures['grids']} grids, {figures['grids'] * COMPOUNDS_PER_GRID} compounds, "
        f"{figures['grids'] * COMPOUNDS_PER_GRID * BUILDINGS_PER_COMPOUND} buildings, "
        f"{figures['grids'] * HOUSEHOLDS_PER_GRID // HOUSEHOLDS_PER_ENTRANCE} entrances; {target:,} households"
    )
    root_user = User.objects.create_superuser("bench-root", "bench@example.org", "bench-password-0123")
    root = resolve_actor(root_user)
    district = node_create(actor=root, parent=None, kind=NodeKind.DISTRICT, code="D", name="兖州区")
    admin_user = User.objects.create_user("bench-admin", password="bench-password-0123")
    RoleAssignment.objects.create(
        user=admin_user, role=Role.DISTRICT_ADMIN, node=district, starts_on=dt.date(2020, 1, 1)
    )
    admin = resolve_actor(admin_user)

    # 1. territory
    rows = territory_rows(target)
    began = time.perf_counter()
    result = import_rows(actor=admin, kind="territory", rows=rows)
    seconds = time.perf_counter() - began
    assert result.ok, result.sorted_errors()[:5]
    print(f"territory import: {len(rows):,} nodes in {seconds:.1f} s = {len(rows) / seconds:,.0f} nodes/s")
    del rows

    # 2. roster, batch by batch (whole grids per batch)
    people = People()
    grids = list(grid_codes(target))
    grids_per_batch = max(1, args.batch // HOUSEHOLDS_PER_GRID)
    done = persons = 0
    import_seconds = generate_seconds = check_seconds = cpu_seconds = 0.0
    first_batch: list[tuple[int, dict[str, Any]]] = []
    for start in range(0, len(grids), grids_per_batch):
        began = time.perf_counter()
        batch_rows, count = roster_rows(grids[start : start + grids_per_batch], people, target, done)
        generate_seconds += time.perf_counter() - began
        if not first_batch:
            first_batch = batch_rows[: args.xlsx_rows]
        marks: dict[str, float] = {}

        def progress(phase: str, done_rows: int, total: int, marks: dict[str, float] = marks) -> None:
            marks.setdefault(phase, time.perf_counter())

        began, cpu_began = time.perf_counter(), time.process_time()
        result = import_rows(actor=admin, kind="roster", rows=batch_rows, progress=progress)
        ended = time.perf_counter()
        cpu_seconds += time.process_time() - cpu_began
        assert result.ok, result.sorted_errors()[:5]
        import_seconds += ended - began
        check_seconds += marks.get("writing", ended) - began
        done += count
        persons += len(batch_rows)
        print(
            f"  {done:>10,} households, {persons:>10,} people: {done / import_seconds:,.0f} households/s "
            f"({done / cpu_seconds:,.0f}/s of CPU time), peak {peak_memory_mb():,.0f} MB",
            flush=True,
        )
        if done >= target:
            break
    rate = done / import_seconds
    print(
        f"roster import: {done:,} households ({persons:,} people) in {import_seconds:.1f} s = {rate:,.0f} households/s "
        f"[checking {check_seconds:.1f} s, writing {import_seconds - check_seconds:.1f} s; "
        f"generating rows in memory, not counted: {generate_seconds:.1f} s]"
    )
    print(
        f"  CPU time of this process (SQLite runs in-process): {cpu_seconds:.1f} s = {done / cpu_seconds:,.0f} "
        f"households/s; {os.getloadavg()[0]:.1f} load average on {os.cpu_count()} cores"
    )

    # 3. xlsx: parse rate of a real file, and an end-to-end import of it (all rows unchanged)
    from openpyxl import Workbook

    from gongzhi.imports.formats import ROSTER_COLUMNS
    from gongzhi.imports.workbook import read_rows

    path = workdir / "roster.xlsx"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("住户花名册")
    sheet.append([column.header for column in ROSTER_COLUMNS])
    for _, row in first_batch:
        sheet.append([row.get(column.key) for column in ROSTER_COLUMNS])
    workbook.save(path)
    began = time.perf_counter()
    errors, parsed = read_rows(str(path), "roster")
    parse_seconds = time.perf_counter() - began
    assert not errors
    print(
        f"xlsx parse (openpyxl, read-only): {len(parsed):,} rows ({path.stat().st_size / 1e6:.1f} MB) in "
        f"{parse_seconds:.2f} s = {len(parsed) / parse_seconds:,.0f} rows/s"
    )
    began = time.perf_counter()
    result = import_file(actor=admin, kind="roster", file=str(path))
    seconds = time.perf_counter() - began
    assert result.ok and result.counts["people"].created == 0, result.summary()
    print(
        f"xlsx re-import end to end (parse + check + match, nothing to write): {len(parsed):,} rows in "
        f"{seconds:.2f} s = {len(parsed) / seconds:,.0f} rows/s"
    )

    # 4. reads, as the staff pages make them
    subdistrict = Node.objects.get(code="S0")
    median, worst, node = timed(lambda: node_get(actor=admin, node_id=subdistrict.pk))
    print(
        f"count a subdistrict's residents (NodeStats roll-up via node_get): median {median:.2f} ms, "
        f"worst {worst:.2f} ms -> {node.stats.residents:,} residents, {node.stats.households:,} households"
    )
    grid = Node.objects.get(code=f"G{len(grids) // 2}")
    median, worst, page = timed(lambda: list(households_in(actor=admin, node=grid)[:50]))
    print(
        f"list one grid's households (first page of 50): median {median:.2f} ms, worst {worst:.2f} ms -> {len(page)} rows"
    )
    began = time.perf_counter()
    scanned = Person.objects.filter(home__path__startswith=subdistrict.path).count()
    print(
        f"  (for comparison, counting the same residents by scanning people: {(time.perf_counter() - began) * 1000:.0f} ms)"
    )
    assert scanned == node.stats.residents, (scanned, node.stats.residents)
    district_stats = NodeStats.objects.get(node=district)
    assert (district_stats.households, district_stats.residents) == (done, Person.objects.count())
    verify = args.verify == "yes" or (args.verify == "auto" and target <= 200_000)
    if verify:
        from gongzhi.territory.services import stats_rebuild

        before = dict(NodeStats.objects.values_list("node_id", "residents"))
        stats_rebuild()
        assert dict(NodeStats.objects.values_list("node_id", "residents")) == before
        print("roll-ups verified: every NodeStats row equals stats_rebuild()")
    else:
        print("roll-ups checked: district and subdistrict totals equal the raw tables")
    print(f"peak memory (ru_maxrss): {peak_memory_mb():,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
