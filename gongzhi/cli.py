"""The `gongzhi` console command: the pieces of a deployment, one by one.

gongzhi run [--scale F] [--tickets N]
                   migrate, load the demo when empty (a fraction F of it, N tickets), serve
                   web + worker (local use)
gongzhi web        gunicorn web process          gongzhi worker   huey worker
gongzhi migrate    apply migrations              gongzhi demo     build the demo district
gongzhi import     import an xlsx file           gongzhi keys     print new encryption keys
gongzhi open311-key NAME --organization CODE   issue an Open311 API key (printed on the last line)
gongzhi vote-verify FILE                         check a closed vote's published record offline
gongzhi manage ... any Django management command
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

DEMO_PASSWORD = "gongzhi-demo"


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.config.settings")
    import django

    django.setup()


def _manage(*args: str) -> None:
    _django_setup()
    from django.core.management import CommandError, call_command

    try:
        call_command(*args)
    except CommandError as exc:  # a refusal, not a crash: the message alone, exit 1
        print(f"gongzhi: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc


def _web_args(bind: str, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "gongzhi.config.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--preload",
        "--access-logfile",
        "-",
        "--timeout",
        "60",
        "--graceful-timeout",
        "10",
        # gunicorn's control socket defaults to one path in the home directory, shared by every
        # gunicorn of the user: two web processes on one machine would take it from each other.
        "--no-control-socket",
    ]


def _worker_args() -> list[str]:
    return [sys.executable, "-m", "gongzhi.cli", "manage", "run_huey"]


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError("must be greater than 0 and at most 1")
    return value


def _ticket_count(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError("must be between 0 and 1,000,000")
    return value


def _run_options(argv: list[str]) -> argparse.Namespace:
    """Checked before anything starts: a typo fails at once, not after the migrations."""
    parser = argparse.ArgumentParser(prog="gongzhi run", description="Local, all-in-one: not for production.")
    parser.add_argument(
        "--scale",
        type=_fraction,
        default=1.0,
        help="fraction (0-1] of the demo's households and residents, on its first build (default 1)",
    )
    parser.add_argument(
        "--tickets",
        type=_ticket_count,
        default=None,
        help="tickets of the past year in the demo, on its first build (default 100,000 x scale)",
    )
    return parser.parse_args(argv)


def cmd_run(argv: list[str]) -> int:
    """Local, all-in-one: SQLite, huey on SQLite, demo data. Not for production."""
    options = _run_options(argv)
    os.environ.setdefault("GONGZHI_DEBUG", "1")
    os.environ.setdefault("GONGZHI_DEMO", "1")
    os.environ.setdefault("GONGZHI_ALLOW_DERIVED_KEYS", "1")
    _django_setup()
    from django.core.management import call_command

    from gongzhi.territory.models import Node

    call_command("migrate", "--noinput", verbosity=0)
    if not Node.objects.exists():
        print("Building the demo district 兖州区 (first run only)...", flush=True)
        call_command("demo", scale=options.scale, tickets=options.tickets)
    call_command("demo_accounts")
    bind = os.environ.get("GONGZHI_BIND", "127.0.0.1:8000")
    print(f"\nGongzhi is running at http://{bind}/  (Ctrl-C stops it)\n", flush=True)
    children = [
        subprocess.Popen(_web_args(bind, int(os.environ.get("GONGZHI_WEB_WORKERS", "2")))),
        # Quiet: warnings and errors only, not a line per periodic task every minute.
        subprocess.Popen(_worker_args(), env={**os.environ, "GONGZHI_LOG_LEVEL": "WARNING"}),
    ]

    def stop(signum: int, frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while any(child.poll() is None for child in children):
        for child in children:
            try:
                child.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                continue
            if child.returncode not in (0, -signal.SIGTERM, None):
                exit_code = exit_code or child.returncode
            stop(signal.SIGTERM, None)  # one died: stop the other, so nothing half-runs
    print("Gongzhi stopped.")
    return exit_code


def cmd_web(argv: list[str]) -> int:
    bind = os.environ.get("GONGZHI_BIND", "127.0.0.1:8000")
    workers = int(os.environ.get("GONGZHI_WEB_WORKERS", "3"))
    os.execv(sys.executable, _web_args(bind, workers) + argv)
    return 0  # pragma: no cover


def cmd_worker(argv: list[str]) -> int:
    _manage("run_huey", *argv)
    return 0


def cmd_migrate(argv: list[str]) -> int:
    _manage("migrate", "--noinput", *argv)
    return 0


def cmd_demo(argv: list[str]) -> int:
    _manage("demo", *argv)
    return 0


def cmd_import(argv: list[str]) -> int:
    _manage("import_xlsx", *argv)
    return 0


def cmd_open311_key(argv: list[str]) -> int:
    _manage("open311_key", *argv)
    return 0


def cmd_keys(argv: list[str]) -> int:
    import secrets

    from cryptography.fernet import Fernet

    print(f"GONGZHI_SECRET_KEY={secrets.token_urlsafe(50)}")
    print(f"GONGZHI_FIELD_KEYS={Fernet.generate_key().decode()}")
    print(f"GONGZHI_LOOKUP_KEY={secrets.token_urlsafe(32)}")
    return 0


def cmd_vote_verify(argv: list[str]) -> int:
    """Recompute a vote's tally and ballot chain from its record file alone (no database, no server).

    Exit 0 when everything matches; 1 when the file cannot be read, is malformed or does not match
    (each fault printed with where it is and why); 2 on wrong usage. Never a traceback.
    """
    import json

    from gongzhi.votes.record import verify_record

    if len(argv) != 1:
        print("usage: gongzhi vote-verify FILE", file=sys.stderr)
        return 2
    try:
        record = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    except OSError as error:
        print(f"gongzhi: cannot read {argv[0]}: {error.strerror or error}", file=sys.stderr)
        return 1
    except (ValueError, RecursionError) as error:
        # JSONDecodeError (a ValueError) names the line and column; bad UTF-8 is a ValueError too.
        print(f"NOT VERIFIED\n  - {argv[0]}: not a JSON file: {error}")
        return 1
    try:
        verification = verify_record(record)
    except Exception as error:  # a last guard: the verifier must answer, not crash
        print(f"NOT VERIFIED\n  - the record could not be checked: {type(error).__name__}: {error}")
        return 1
    if not verification.ok:
        print("NOT VERIFIED")
        for problem in verification.problems:
            print(f"  - {problem}")
        return 1
    figures = verification.recomputed
    vote = record["vote"]
    print(f"VERIFIED: vote {vote['id']} “{vote['question']}”")
    print(
        f"  ballots chain: {len(record['ballots'])} counted, {len(record.get('superseded') or [])} replaced"
    )
    closed_at = vote.get("closed_at")
    if closed_at:
        early = (
            " (closed early: " + str(vote.get("close_reason", "")) + ")" if vote.get("closed_early") else ""
        )
        print(f"  voting: {vote['opens']} – {closed_at}{early}; every ballot cast within it")
    else:
        print(f"  voting: {vote['opens']} – {vote['closes']}; every ballot cast within it")
    print(
        f"  area: {figures['participating_area']} of {figures['total_area']} m² took part, {figures['for_area']} for"
    )
    print(
        f"  headcount: {figures['participating_headcount']} of {figures['total_headcount']} took part, "
        f"{figures['for_headcount']} for"
    )
    print(
        f"  quorum met: {'yes' if figures['quorum_met'] else 'no'}; passed: {'yes' if figures['passed'] else 'no'}"
    )
    return 0


def cmd_manage(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["gongzhi manage", *argv])
    return 0


COMMANDS = {
    "run": cmd_run,
    "web": cmd_web,
    "worker": cmd_worker,
    "migrate": cmd_migrate,
    "demo": cmd_demo,
    "import": cmd_import,
    "keys": cmd_keys,
    "open311-key": cmd_open311_key,
    "vote-verify": cmd_vote_verify,
    "manage": cmd_manage,
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    sys.path.insert(0, str(Path.cwd()))
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 0 if not argv or argv[0] in {"-h", "--help", "help"} else 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
