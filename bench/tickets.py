"""Ticket benchmark (issue 4): submissions through gunicorn under wrk, the ceilings, the sweep.

    .venv/bin/python bench/tickets.py [--db both|sqlite|postgres] [--duration 30]
                                      [--connections 16] [--workers 2×cores+1]
                                      [--open 1000000] [--overdue 3000] [--plates 1000]
                                      [--only all|sweep]

For each database, on a throw-away one (SQLite in a temporary folder; PostgreSQL: a fresh
`gongzhi_bench_<pid>` on the server of GONGZHI_BENCH_PG, default
postgres://postgres@127.0.0.1:5432, dropped at the end), in a child process of its own:

1. Migrates (the default categories come with the migrations) and builds the demo district
   (`demo_build(tickets=--demo-tickets)`: the tree, people, departments, accounts).
2. Starts gunicorn on loopback with --workers sync workers (as `gongzhi web` does) on the
   project's settings plus a bench-only urlconf (bench/tickets_urls.py: /healthz, the minimal
   Django view), DEBUG off, the local-memory cache (production has Redis; the file cache of a
   bare install is not what is measured here) and the Open311 rate limit lifted.
3. wrk --latency: /healthz for --ceiling-duration seconds, then ticket submissions for
   --duration seconds: a Lua script POSTs Open311 `requests.json` (api_key, service_code,
   address_id of a random demo entrance, a unique description, a phone), or with `--route api`
   the JSON API's /api/v1/tickets with a staff bearer token.
4. The sweep with --open open tickets (future deadlines) plus --overdue overdue ones, bulk
   inserted (COPY on PostgreSQL), analysed; then times one pass of `tickets_sweep()` (up to
   1,000 overdue per kind), a whole run (the periodic job's: passes until nothing is due, within
   its time budget) and an idle run (nothing due: the cost of looking at 1M open tickets).
   `--only sweep` runs steps 1 and 4 alone (no server, wrk, pgbench or doorplates).

Beside it, once: pgbench's ceilings on the same PostgreSQL (a custom script of one INSERT,
and the built-in simple-update `-N`), 4 clients, 2 threads, 15 s; and bench/doorplates.py for
--plates entrances. wrk and pgbench must be installed (the bench says how when they are not).

Targets (issue 4, 2-core VM): >= 300 submissions/s on PostgreSQL with p99 <= 200 ms; sweep
<= 2 s at 1M open; 1,000 doorplates <= 30 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
PG_SERVER = os.environ.get("GONGZHI_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
TARGET_RATE, TARGET_P99_MS, TARGET_SWEEP_S, TARGET_PLATES_S = 300, 200, 2.0, 30.0

# --- environment ---------------------------------------------------------------------------------


def django_env(db: str, workdir: str, database: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GONGZHI_SECRET_KEY="bench-secret-key-not-for-production-0123456789abcdef",
        GONGZHI_ALLOW_DERIVED_KEYS="1",
        GONGZHI_DEBUG="0",
        GONGZHI_DEMO="1",
        GONGZHI_HTTPS="0",
        GONGZHI_ALLOWED_HOSTS="127.0.0.1,localhost",
        GONGZHI_LOCMEM_CACHE="1",
        GONGZHI_STATIC_MANIFEST="0",
        GONGZHI_HUEY_IMMEDIATE="0",
        GONGZHI_VAR_DIR=workdir,
        GONGZHI_STATIC_ROOT=str(ROOT / "staticfiles") if (ROOT / "staticfiles").is_dir() else workdir,
        GONGZHI_LOG_LEVEL="WARNING",
        GONGZHI_RATE_LIMIT_OPEN311_POST="100000000/minute",
        GONGZHI_RATE_LIMIT_PUBLIC_READ="100000000/minute",
        PYTHONPATH=os.pathsep.join([str(BENCH), str(ROOT)]),
        DJANGO_SETTINGS_MODULE="tickets_settings",
    )
    env.pop("GONGZHI_DATABASE_URL", None)
    if db == "postgres":
        env["GONGZHI_DATABASE_URL"] = f"{PG_SERVER}/{database}"
    return env


def pg_args() -> list[str]:
    url = urllib.parse.urlsplit(PG_SERVER)
    return ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_tool(name: str, how: str) -> str:
    """`name` on PATH, or stop with how to install it (the bench installs nothing itself)."""
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"bench/tickets.py needs {name}, which is not on PATH. Install it first: {how}")
    return found


def ensure_wrk() -> str:
    return ensure_tool(
        "wrk",
        "on Debian or Ubuntu `sudo apt-get install wrk` (or build https://github.com/wg/wrk). "
        "`--only sweep` runs without it.",
    )


# --- wrk -----------------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, *, seconds: int, connections: int, script: str | None = None) -> dict[str, Any]:
    args = [ensure_wrk(), "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script:
        args += ["-s", script]
    completed = subprocess.run([*args, url], capture_output=True, text=True, check=False)
    output = completed.stdout
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.M))
    if completed.returncode or not {"50", "90", "99"} <= set(latency):
        raise SystemExit(f"wrk failed ({completed.returncode}):\n{output}\n{completed.stderr}")
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)$", output, re.M)
    return {
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50": _ms(latency["50"]),
        "p90": _ms(latency["90"]),
        "p99": _ms(latency["99"]),
        "requests": requests,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else "",
        "output": output,
    }


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


LUA = """
local addresses = {%(addresses)s}
local services = {%(services)s}
local counter = 0
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
init = function(args)
  math.randomseed(os.time() * 100 + tid)
end
request = function()
  counter = counter + 1
  local address = addresses[math.random(#addresses)]
  local service = services[math.random(#services)]
  local suffix = tid .. "-" .. counter .. "-" .. math.random(1000000000)
  %(build)s
end
"""

OPEN311_BUILD = """local body = "api_key=%(key)s&service_code=" .. service .. "&address_id=" .. address
    .. "&description=%(words)s" .. suffix .. "&phone=1380013" .. string.format("%%04d", math.random(9999))
  return wrk.format("POST", "/open311/v2/requests.json",
    {["Content-Type"] = "application/x-www-form-urlencoded"}, body)"""

API_BUILD = """local body = '{"channel": "phone", "node_id": ' .. address .. ', "category": "' .. service
    .. '", "description": "%(words)s ' .. suffix .. '"}'
  return wrk.format("POST", "/api/v1/tickets",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(key)s"}, body)"""

SERVICES = ("stairwell-light", "garbage-removal", "parking", "noise", "water-outage", "greenery")
WORDS = "楼道灯不亮了，晚上上下楼看不见，请尽快处理。编号"


def lua_script(path: Path, route: str, key: str, addresses: list[str]) -> None:
    if route == "open311":
        build = OPEN311_BUILD % {"key": urllib.parse.quote(key), "words": urllib.parse.quote(WORDS)}
    else:
        build = API_BUILD % {"key": key, "words": WORDS}
    path.write_text(
        LUA
        % {
            "addresses": ", ".join(_lua_string(a) for a in addresses),
            "services": ", ".join(_lua_string(s) for s in SERVICES),
            "build": build,
        },
        encoding="utf-8",
    )


# --- the child: one database -------------------------------------------------------------------


def child(args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    from gongzhi.core.demo.build import demo_build

    summary = demo_build(scale=1.0, tickets=args.demo_tickets)
    result: dict[str, Any] = {"db": args.db, "demo_seconds": round(time.perf_counter() - started, 1)}
    result["demo_tickets"] = summary.tickets
    if args.only == "sweep":
        result["sweep"] = sweep_bench(args.open, args.overdue)
        return result
    route = args.route
    key, addresses = prepare_route(route)
    result["route"] = route
    script = Path(args.workdir) / "submit.lua"
    lua_script(script, route, key, addresses)
    from django.db import connections

    connections.close_all()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(port, args.workers)
    try:
        check_submission(base, route, key, addresses[0])
        for name, url, seconds, lua in (
            ("healthz", f"{base}/healthz", args.ceiling_duration, None),
            ("submit", base, args.duration, str(script)),
        ):
            before = cpu_snapshot(server.pid)
            result[name] = wrk(url, seconds=seconds, connections=args.connections, script=lua)
            result[name].update(cpu_per_request(before, cpu_snapshot(server.pid), result[name]["requests"]))
            result[name]["load"] = os.getloadavg()[0]
    finally:
        stop_server(server)
    from gongzhi.tickets.models import Ticket

    result["tickets_written"] = Ticket.objects.filter(submitted_at__gte=_started_at).count()
    if args.open:
        result["sweep"] = sweep_bench(args.open, args.overdue)
    for name in ("healthz", "submit"):
        result[name].pop("output")
    return result


_started_at = dt.datetime.now(dt.UTC)


def prepare_route(route: str) -> tuple[str, list[str]]:
    """The key the route posts with and the addresses it posts to: Open311 (an API key and the
    entrances' codes) or the JSON API (a staff bearer token and the entrances' ids)."""
    from gongzhi.territory.models import Node, NodeKind, Organization

    entrances = list(Node.objects.filter(kind=NodeKind.ENTRANCE).values_list("code", "pk"))
    if route == "open311":
        from gongzhi.open311.services import open311_key_issue

        # Any of the demo's organizations answers for the bench's client; the rate limit is lifted.
        organization = Organization.objects.order_by("pk").first()
        assert organization is not None, "the demo made no organization"
        issued = open311_key_issue(actor=None, name="bench", organization_id=organization.pk)
        return issued.secret, [code for code, _ in entrances]
    from gongzhi.accounts.models import User
    from gongzhi.accounts.services import api_token_issue

    token = api_token_issue(user=User.objects.get(username="demo-district-admin"))
    return token, [str(pk) for _, pk in entrances]


def start_server(port: int, workers: int) -> subprocess.Popen[bytes]:
    command = [
        PYTHON,
        "-m",
        "gunicorn",
        "gongzhi.config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--preload",
        "--timeout",
        "60",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=os.environ.copy(), cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise SystemExit("gunicorn did not answer on /healthz within 60 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def check_submission(base: str, route: str, key: str, address: str) -> None:
    """One submission before the load: a clear error instead of 30 s of failures."""
    if route == "open311":
        url, headers = f"{base}/open311/v2/requests.json", {}
        body = urllib.parse.urlencode(
            {"api_key": key, "service_code": "parking", "address_id": address, "description": WORDS + "check"}
        ).encode()
    else:
        url, headers = f"{base}/api/v1/tickets", {"Authorization": f"Bearer {key}"}
        headers["Content-Type"] = "application/json"
        payload = {"channel": "phone", "node_id": int(address), "category": "parking", "description": WORDS}
        body = json.dumps(payload).encode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            if response.status not in (200, 201):
                raise SystemExit(f"{route} submission answered {response.status}: {response.read()[:500]!r}")
    except urllib.error.HTTPError as error:
        raise SystemExit(f"{route} submission answered {error.code}: {error.read()[:1000]!r}") from error


# --- CPU accounting: the machine may be shared; CPU per request is what an idle one would need ---

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _database_backends() -> list[int]:
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def cpu_snapshot(server_pid: int) -> dict[str, dict[int, float]]:
    import resource

    return {
        "web": {pid: _cpu(pid) for pid in [server_pid, *_children(server_pid)]},
        "db": {pid: _cpu(pid) for pid in _database_backends()},
        "wrk": {
            0: resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
            + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime
        },
    }


def cpu_per_request(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]], requests: int
) -> dict[str, float]:
    """CPU milliseconds per request of the web workers, the database backends and wrk, and the
    rate those would allow on this machine's cores if nothing else ran."""
    spent = {
        part: sum(seconds - before[part].get(pid, 0.0) for pid, seconds in after[part].items())
        for part in ("web", "db", "wrk")
    }
    per = {f"cpu_{part}_ms": 1000 * seconds / max(1, requests) for part, seconds in spent.items()}
    total = sum(per.values())
    per["idle_rate"] = (os.cpu_count() or 1) * 1000 / total if total else 0.0
    return per


# --- the sweep at 1M open ------------------------------------------------------------------------


def sweep_bench(open_count: int, overdue: int) -> dict[str, Any]:
    from django.db import connection

    from gongzhi.tickets.models import Category, Ticket
    from gongzhi.tickets.services.sweep import tickets_sweep
    from gongzhi.tickets.workflow import Level

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    grids = _grids_with_entrances()
    category = Category.objects.get(code="stairwell-light")
    fields = [field for field in Ticket._meta.concrete_fields if not field.primary_key]
    names = [field.attname for field in fields]
    sqlite = connection.vendor == "sqlite"

    def when(moment: dt.datetime) -> Any:
        return moment.replace(tzinfo=None).isoformat(" ") if sqlite else moment

    future = now + dt.timedelta(days=30)
    stamp = when(now)

    def rows() -> Any:
        for i in range(open_count + overdue):
            grid, entrance = grids[i % len(grids)]
            late = i >= open_count
            accepted = i % 2 == 1
            due = now - dt.timedelta(minutes=5 + i % 600) if late else future + dt.timedelta(seconds=i)
            values = {
                "number": f"B{i:013d}",
                "follow_token": f"bench-{i}",
                "submit_key": None,
                "kind": "help",
                "category_id": category.pk,
                "description": "楼道灯不亮了",
                "answers": "{}",
                "channel": "doorplate",
                "node_id": entrance,
                "grid_id": grid,
                "latitude": None,
                "longitude": None,
                "reporter_user_id": None,
                "reporter_name": "",
                "reporter_phone": "",
                "reporter_phone_hash": "",
                "is_anonymous": False,
                "entered_by_id": None,
                "state": "accepted" if accepted else "submitted",
                "level": int(Level.GRID),
                "owner_node_id": grid,
                "assignee_id": None,
                "version": 1,
                "submitted_at": stamp,
                "response_due_at": when(future if accepted else due),
                "resolution_due_at": when(due if accepted else future),
                "rating_due_at": None,
                "responded_at": stamp if accepted else None,
                "resolved_at": None,
                "closed_at": None,
                "reminders": 0,
                "reopen_count": 0,
                "merged_into_id": None,
                "rating": "",
                "rating_comment": "",
                "resolution_note": "",
                "rejection_reason": "",
                "updated_at": stamp,
            }
            yield tuple(values[name] for name in names)

    started = time.perf_counter()
    columns = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
    with connection.cursor() as cursor:
        if sqlite:
            sql = f"INSERT INTO tickets_ticket ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
            batch: list[tuple[Any, ...]] = []
            for row in rows():
                batch.append(row)
                if len(batch) == 20000:
                    cursor.executemany(sql, batch)
                    batch = []
            cursor.executemany(sql, batch)
            cursor.execute("ANALYZE")
        else:
            with cursor.cursor.copy(f"COPY tickets_ticket ({columns}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
            cursor.execute("ANALYZE tickets_ticket")
    inserted = time.perf_counter() - started
    open_now = Ticket.objects.open().count()

    # A worker has its URLconf loaded after its first task (the sweep's notices `reverse()` their
    # links); load it here, so the first pass is not charged its import (about 0.7 s, once).
    from django.urls import reverse

    reverse("tickets:detail", args=["B0"])

    def timed(**options: Any) -> tuple[float, Any]:
        begin = time.perf_counter()
        outcome = tickets_sweep(now=now, **options)
        return time.perf_counter() - begin, outcome

    # One pass (up to 1,000 of each kind), then the rest as the periodic job's run takes it:
    # passes until nothing is due, within the run's time budget.
    first_seconds, first = timed(budget_seconds=0)
    rest_seconds, rest = timed()
    idle_seconds = min(timed()[0], timed()[0])
    return {
        "load": os.getloadavg()[0],
        "open": open_now,
        "overdue": overdue,
        "insert_seconds": round(inserted, 1),
        "first_seconds": round(first_seconds, 3),
        "first_escalated": first.escalated,
        "first_reminded": first.reminded,
        "drain_seconds": round(first_seconds + rest_seconds, 3),
        "drained": first.escalated + first.reminded + rest.escalated + rest.reminded,
        "idle_seconds": round(idle_seconds, 4),
    }


def _grids_with_entrances() -> list[tuple[int, int]]:
    from gongzhi.territory.models import Node, NodeKind

    grids = list(Node.objects.filter(kind=NodeKind.GRID).values_list("pk", "path"))
    pairs = []
    for pk, path in Node.objects.filter(kind=NodeKind.ENTRANCE).values_list("pk", "path"):
        grid = next(g for g, prefix in grids if path.startswith(prefix))
        pairs.append((grid, pk))
    return pairs


# --- the parent ----------------------------------------------------------------------------------


def run_database(db: str, args: argparse.Namespace) -> dict[str, Any]:
    workdir = tempfile.mkdtemp(prefix=f"gongzhi-bench-{db}-")
    database = f"gongzhi_bench_{os.getpid()}"
    if db == "postgres":
        subprocess.run(["createdb", *pg_args(), database], check=True)
    out = Path(workdir) / "result.json"
    command = [PYTHON, __file__, "--child", "--db", db, "--workdir", workdir, "--json-out", str(out)]
    command += [f"--{name}={getattr(args, name.replace('-', '_'))}" for name in CHILD_OPTIONS]
    print(f"[{db}] preparing the database and the server ...", flush=True)
    try:
        subprocess.run(command, env=django_env(db, workdir, database), check=True)
        return dict(json.loads(out.read_text()))
    finally:
        if db == "postgres":
            subprocess.run(["dropdb", *pg_args(), "--if-exists", database], check=False)
        shutil.rmtree(workdir, ignore_errors=True)


def pgbench(seconds: int) -> dict[str, Any]:
    ensure_tool("pgbench", "it comes with PostgreSQL's server package (Debian: postgresql-15).")
    database = f"gongzhi_bench_{os.getpid()}_pgbench"
    subprocess.run(["createdb", *pg_args(), database], check=True)
    try:
        subprocess.run(["pgbench", *pg_args(), "-i", "-q", database], check=True, capture_output=True)
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
            script.write(
                "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 1, 1, CURRENT_TIMESTAMP);\n"
            )
        results = {}
        for name, extra in (("insert", ["-f", script.name]), ("simple_update", ["-N"])):
            output = subprocess.run(
                ["pgbench", *pg_args(), "-n", "-c", "4", "-j", "2", "-T", str(seconds), *extra, database],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            tps = float(re.search(r"tps = ([\d.]+)", output).group(1))  # type: ignore[union-attr]
            latency = re.search(r"latency average = ([\d.]+) ms", output)
            results[name] = {"tps": tps, "latency_ms": float(latency.group(1)) if latency else None}
        os.unlink(script.name)
        return results
    finally:
        subprocess.run(["dropdb", *pg_args(), "--if-exists", database], check=False)


def doorplates(plates: int) -> dict[str, Any]:
    script = BENCH / "doorplates.py"
    env = dict(os.environ)
    env.pop("GONGZHI_DATABASE_URL", None)
    started = time.perf_counter()
    completed = subprocess.run(
        [PYTHON, str(script), "--entrances", str(plates), "--layout", "sheets"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return {
        "seconds_total": round(time.perf_counter() - started, 1),
        "returncode": completed.returncode,
        "output": completed.stdout[-3000:] + completed.stderr[-1500:],
    }


def print_table(results: dict[str, dict[str, Any]], ceilings: dict[str, Any], plates: dict[str, Any]) -> None:
    dbs = [db for db in ("sqlite", "postgres") if db in results]
    header = ["", *(("SQLite" if db == "sqlite" else "PostgreSQL") for db in dbs), "target"]
    lines: list[list[str]] = []

    def row(label: str, values: list[str], target: str = "") -> None:
        lines.append([label, *values, target])

    if all("submit" in results[db] for db in dbs):  # not with --only sweep
        row("submission route", [results[db]["route"] for db in dbs])
        row("submissions/s", [f"{results[db]['submit']['rate']:.0f}" for db in dbs], f">= {TARGET_RATE} (PG)")
        row(
            "submit p50 / p90 / p99 ms",
            [
                f"{r['p50']:.0f} / {r['p90']:.0f} / {r['p99']:.0f}"
                for r in (results[db]["submit"] for db in dbs)
            ],
            f"p99 <= {TARGET_P99_MS} (PG)",
        )
        row(
            "submit non-2xx / socket errors",
            [f"{r['non2xx']} / {r['socket_errors'] or '-'}" for r in (results[db]["submit"] for db in dbs)],
        )
        row(
            "submit CPU ms/req web + db + wrk",
            [
                f"{r['cpu_web_ms']:.1f} + {r['cpu_db_ms']:.1f} + {r['cpu_wrk_ms']:.1f}"
                for r in (results[db]["submit"] for db in dbs)
            ],
        )
        row(
            "submit rate the CPU allows, idle box",
            [f"{results[db]['submit']['idle_rate']:.0f}/s" for db in dbs],
            f">= {TARGET_RATE} (PG)",
        )
        row("load average during submit", [f"{results[db]['submit']['load']:.1f}" for db in dbs])
        row("tickets written", [str(results[db]["tickets_written"]) for db in dbs])
        row("ceiling: /healthz req/s", [f"{results[db]['healthz']['rate']:.0f}" for db in dbs])
        row(
            "/healthz CPU ms/req web + wrk",
            [
                f"{r['cpu_web_ms']:.2f} + {r['cpu_wrk_ms']:.2f}"
                for r in (results[db]["healthz"] for db in dbs)
            ],
        )
        row(
            "/healthz p50 / p99 ms",
            [f"{r['p50']:.1f} / {r['p99']:.1f}" for r in (results[db]["healthz"] for db in dbs)],
        )
    if ceilings:
        for name, label in (("insert", "one INSERT"), ("simple_update", "-N simple update")):
            value = ceilings[name]
            cells = [
                "-" if db == "sqlite" else f"{value['tps']:.0f} tps ({value['latency_ms']} ms)" for db in dbs
            ]
            row(f"ceiling: pgbench {label}", cells)
    if all("sweep" in results[db] for db in dbs):
        sweeps = [results[db]["sweep"] for db in dbs]
        row("sweep: open tickets", [f"{s['open']:,}" for s in sweeps])
        row(
            "sweep: first pass s (escalated)",
            [f"{s['first_seconds']:.2f} ({s['first_escalated']})" for s in sweeps],
            f"<= {TARGET_SWEEP_S} s",
        )
        row(
            "sweep: all overdue s (rows)",
            [f"{s['drain_seconds']:.2f} ({s['drained']})" for s in sweeps],
        )
        row("sweep: idle run s", [f"{s['idle_seconds']:.3f}" for s in sweeps], f"<= {TARGET_SWEEP_S} s")
        row("sweep: bulk insert s", [f"{s['insert_seconds']:.0f}" for s in sweeps])
        row("sweep: load average", [f"{s.get('load', 0):.1f}" for s in sweeps])
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(len(header))]
    print()
    print("| " + " | ".join(cell.ljust(w) for cell, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in lines:
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) + " |")
    if plates:
        print()
        print(
            f"doorplates (bench/doorplates.py, exit {plates['returncode']}, {plates['seconds_total']} s in all):"
        )
        print(plates["output"].rstrip())


CHILD_OPTIONS = (
    "duration",
    "ceiling-duration",
    "connections",
    "workers",
    "open",
    "overdue",
    "route",
    "demo-tickets",
    "only",
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("--duration", type=int, default=30, help="seconds of submissions under wrk")
    parser.add_argument("--ceiling-duration", type=int, default=15, help="seconds of /healthz and of pgbench")
    parser.add_argument(
        "--connections",
        type=int,
        default=16,
        help="wrk connections (one wrk thread: it needs little CPU and shares the box)",
    )
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--open", type=int, default=1_000_000, help="open tickets for the sweep (0: skip)")
    parser.add_argument("--overdue", type=int, default=3000, help="overdue tickets among them")
    parser.add_argument("--plates", type=int, default=1000, help="doorplates to print (0: skip)")
    parser.add_argument(
        "--route",
        choices=("open311", "api"),
        default="open311",
        help="post Open311 requests.json with an API key, or the JSON API's /api/v1/tickets with a token",
    )
    parser.add_argument("--demo-tickets", type=int, default=0, help="demo tickets in the database first")
    parser.add_argument(
        "--only",
        choices=("all", "sweep"),
        default="all",
        help="sweep: the sweep alone (no server, pgbench, plates)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child(args)
        Path(args.json_out).write_text(json.dumps(result, default=str))
        return 0
    sweep_only = args.only == "sweep"
    if sweep_only:
        args.plates = 0
        print(f"{os.cpu_count()} cores; the sweep alone")
    else:
        ensure_wrk()
        print(
            f"{os.cpu_count()} cores, {args.workers} gunicorn workers, "
            f"wrk 1 thread × {args.connections} connections"
        )
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = {db: run_database(db, args) for db in dbs}
    ceilings = pgbench(args.ceiling_duration) if "postgres" in dbs and not sweep_only else {}
    plates = doorplates(args.plates) if args.plates else {}
    print_table(results, ceilings, plates)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"results": results, "pgbench": ceilings, "doorplates": plates})
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
