"""Doorplate printing benchmark: time the print job for a community's worth of entrances.

    .venv/bin/python bench/doorplates.py [--entrances 1000] [--layout sheets|single|both]

What it does, on its own throw-away database (SQLite in a temporary folder, or a fresh
`test_…` database on the PostgreSQL server named by GONGZHI_DATABASE_URL; set up as
bench/tree.py does):

1. Builds one community with at least --entrances entrances (grids of 5 compounds × 10
   buildings × 5 entrances) through `nodes_bulk_add`, and a grid worker (with a linked person
   and phone) on every grid.
2. Prints every plate of the community through the same code path as the staff page: the
   service `print_job_create` queues the job, the huey task (run at once: immediate mode)
   issues the codes, draws the PDF and stores it, updating the progress as it goes. Timed from
   the request to the stored file. Then prints again with "reissue codes" (every code replaced,
   audited) for the same layout.
3. Prints the figures: plates, wall seconds, plates/s, CPU seconds of this process (the job
   runs in it: on a busy machine this is what an idle one would take), PDF size; and checks
   the stored file.

Target (issue 4): 1,000 doorplates in ≤ 30 s on the 2-core VM.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tree import setup_django  # noqa: E402

COMPOUNDS_PER_GRID = 5
BUILDINGS_PER_COMPOUND = 10
ENTRANCES_PER_BUILDING = 5
ENTRANCES_PER_GRID = COMPOUNDS_PER_GRID * BUILDINGS_PER_COMPOUND * ENTRANCES_PER_BUILDING
TARGET_SECONDS = 30.0


def build_community(entrances: int) -> int:
    """One community with ≥ `entrances` entrances and a grid worker per grid; its node id."""
    import datetime as dt

    from django.db import transaction

    from gongzhi.accounts.models import Role, RoleAssignment, User
    from gongzhi.core.testing import superactor
    from gongzhi.people.models import Person
    from gongzhi.territory.models import NodeKind
    from gongzhi.territory.services import NodeSpec, node_create, nodes_bulk_add

    root = superactor()
    grids = max(1, math.ceil(entrances / ENTRANCES_PER_GRID))
    with transaction.atomic():
        district = node_create(actor=root, parent=None, kind=NodeKind.DISTRICT, code="D", name="兖州区")
        sub = node_create(actor=root, parent=district, kind=NodeKind.SUBDISTRICT, code="S", name="鼓楼街道")
        community = node_create(actor=root, parent=sub, kind=NodeKind.COMMUNITY, code="C", name="奎星楼社区")
        grid_nodes = nodes_bulk_add(
            community, [NodeSpec(NodeKind.GRID, f"G{g}", f"第{g + 1}网格") for g in range(grids)]
        )
        for g, grid in enumerate(grid_nodes):
            compounds = nodes_bulk_add(
                grid,
                [
                    NodeSpec(NodeKind.COMPOUND, f"G{g}-X{c}", f"第{g + 1}网格{c + 1}号院")
                    for c in range(COMPOUNDS_PER_GRID)
                ],
            )
            for compound in compounds:
                buildings = nodes_bulk_add(
                    compound,
                    [
                        NodeSpec(NodeKind.BUILDING, f"{compound.code}-B{b}", f"{b + 1}号楼", {"floors": 6})
                        for b in range(BUILDINGS_PER_COMPOUND)
                    ],
                )
                for building in buildings:
                    nodes_bulk_add(
                        building,
                        [
                            NodeSpec(NodeKind.ENTRANCE, f"{building.code}-U{u}", f"{u + 1}单元")
                            for u in range(ENTRANCES_PER_BUILDING)
                        ],
                    )
            person = Person.objects.create(name=f"网格员{g + 1}", phone=f"138{g:08d}", home=grid)
            worker = User.objects.create_user(f"worker{g}", person=person)
            RoleAssignment.objects.create(
                user=worker, role=Role.GRID_WORKER, node=grid, starts_on=dt.date(2020, 1, 1)
            )
    return community.pk


def print_once(community_id: int, layout: str, *, reissue: bool) -> tuple[int, float, float, int]:
    """(plates, wall seconds, CPU seconds, bytes) of one print job, request to stored file."""
    from django.db import transaction

    from gongzhi.core.testing import superactor
    from gongzhi.doorplates.models import PrintJob, PrintStatus
    from gongzhi.doorplates.services import print_job_create

    actor = superactor()
    began, began_cpu = time.perf_counter(), time.process_time()
    with transaction.atomic():  # the job runs on commit, in this process (huey immediate mode)
        job = print_job_create(actor=actor, node_id=community_id, layout=layout, reissue=reissue)
    seconds, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    job = PrintJob.objects.get(pk=job.pk)
    assert job.status == PrintStatus.SUCCEEDED, (job.status, job.error)
    assert job.done == job.total
    with job.file.open("rb") as file:
        size = len(file.read())
    return job.total, seconds, cpu, size


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entrances", type=int, default=1000)
    parser.add_argument("--layout", choices=("sheets", "single", "both"), default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gongzhi-bench-") as workdir:
        cleanup = setup_django(workdir)
        try:
            return run(args)
        finally:
            cleanup()


def run(args: argparse.Namespace) -> int:
    from django.db import connection

    from gongzhi.doorplates import pdf

    began = time.perf_counter()
    community_id = build_community(args.entrances)
    print(f"database: {connection.vendor}; built the community in {time.perf_counter() - began:.1f} s")
    print(f"CJK font: {pdf.find_cjk_font() or 'none (STSong-Light fallback)'}; cores: {os.cpu_count()}")
    layouts = ("sheets", "single") if args.layout == "both" else (args.layout,)
    worst = 0.0
    print(
        f"{'layout':<8} {'codes':<9} {'plates':>7} {'seconds':>8} {'plates/s':>9} {'CPU s':>7} {'PDF size':>10}"
    )
    for number, layout in enumerate(layouts):
        # The first job issues every code; the later ones find them (or, reissuing, replace them).
        runs = [("issued" if number == 0 else "existing", False), ("reissued", True)]
        for label, reissue in runs:
            plates, seconds, cpu, size = print_once(community_id, layout, reissue=reissue)
            worst = max(worst, seconds)
            print(
                f"{layout:<8} {label:<9} {plates:>7,} {seconds:>8.2f} {plates / seconds:>9.1f} {cpu:>7.2f} "
                f"{size / 1_048_576:>8.2f} MB"
            )
    verdict = "within" if worst <= TARGET_SECONDS * args.entrances / 1000 else "OVER"
    print(f"slowest job: {worst:.2f} s ({verdict} the target of {TARGET_SECONDS:.0f} s per 1,000 plates)")
    print(f"load average now: {' / '.join(f'{load:.1f}' for load in os.getloadavg())} (1 / 5 / 15 min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
