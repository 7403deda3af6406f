import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from gongzhi import cli


def test_keys_prints_usable_production_keys(capsys):
    assert cli.main(["keys"]) == 0
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.strip().splitlines())
    assert set(lines) == {"GONGZHI_SECRET_KEY", "GONGZHI_FIELD_KEYS", "GONGZHI_LOOKUP_KEY"}
    Fernet(lines["GONGZHI_FIELD_KEYS"].encode())  # raises if not a valid key
    assert len(lines["GONGZHI_SECRET_KEY"]) >= 50


def test_unknown_command_prints_help_and_fails(capsys):
    assert cli.main(["frobnicate"]) == 2
    assert "gongzhi web" in capsys.readouterr().out


def test_the_console_script_runs_management_commands():
    result = subprocess.run(
        [sys.executable, "-m", "gongzhi.cli", "manage", "check"],
        capture_output=True,
        text=True,
        env={"GONGZHI_DEBUG": "1", "PATH": "/usr/bin:/bin", "GONGZHI_VAR_DIR": "/tmp/gongzhi-cli-test"},
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


# --- Smoke tests of the long-running pieces: real processes on a throw-away SQLite var dir. ---------
# They poll (a port, a line of output) with deadlines and never sleep for a fixed time.

STARTUP_SECONDS = 180  # migrations and a small demo on a busy 2-core machine
STOP_SECONDS = 30


class Running:
    """A `gongzhi` command in its own process group; its output is collected by a thread."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gongzhi.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,  # a group of its own: Ctrl-C is sent to the whole group
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_output(self, text: str, timeout: float = STARTUP_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert self.process.poll() is None, f"exited {self.process.returncode}:\n{self.output}"
            assert time.monotonic() < deadline, f"no {text!r} within {timeout} s:\n{self.output}"
            time.sleep(0.1)

    def wait_for_http(self, url: str, timeout: float = STARTUP_SECONDS) -> int:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, f"exited {self.process.returncode}:\n{self.output}"
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    return int(response.status)
            except urllib.error.HTTPError as error:
                return int(error.code)
            except OSError:  # not listening yet
                assert time.monotonic() < deadline, f"{url} not served within {timeout} s:\n{self.output}"
                time.sleep(0.1)

    def stop(self, signum: int, *, group: bool) -> int:
        """Send `signum` (to the whole group, as a terminal's Ctrl-C does) and wait for the end."""
        if group:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise AssertionError(
                f"still running {STOP_SECONDS} s after signal {signum}:\n{self.output}"
            ) from None
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_SECONDS)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(var_dir: Path, port: int = 0) -> dict[str, str]:
    """A fresh environment: SQLite in `var_dir`, whatever database the test suite itself uses."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(var_dir),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "GONGZHI_VAR_DIR": str(var_dir),
        "GONGZHI_DEBUG": "1",
        "GONGZHI_ALLOW_DERIVED_KEYS": "1",
        "GONGZHI_STATIC_MANIFEST": "0",
        "GONGZHI_BIND": f"127.0.0.1:{port}",
        "GONGZHI_WEB_WORKERS": "1",
        "GONGZHI_WORKER_THREADS": "1",
    }


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite var dir for the smoke tests of this module."""
    path = tmp_path_factory.mktemp("gongzhi-var")
    result = subprocess.run(
        [sys.executable, "-m", "gongzhi.cli", "migrate"],
        env=_environment(path),
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return path


def _token(port: int, username: str, password: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/token",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


@pytest.mark.parametrize(("signum", "group"), [(signal.SIGINT, True), (signal.SIGTERM, False)])
def test_gongzhi_run_builds_a_small_demo_serves_and_stops_cleanly(
    var_dir: Path, signum: int, group: bool
) -> None:
    """`gongzhi run` with a small demo: the demo accounts log in; Ctrl-C (SIGINT to the group) or
    a SIGTERM to it alone (a service manager) stops the web process and the worker, exit 0."""
    port = _free_port()
    running = Running(["run", "--scale", "0.02", "--tickets", "20"], _environment(var_dir, port))
    try:
        running.wait_for_output("Gongzhi is running at")
        assert running.wait_for_http(f"http://127.0.0.1:{port}/accounts/login/") == 200
        assert _token(port, "demo-grid-worker", "gongzhi-demo") == 200
    except BaseException:
        running.kill()
        raise
    assert running.stop(signum, group=group) == 0, running.output
    assert "Gongzhi stopped." in running.output


@pytest.mark.parametrize("argv", [["--scale", "2"], ["--scale", "0"], ["--tickets", "-1"], ["--size", "1"]])
def test_gongzhi_run_refuses_bad_options_before_starting_anything(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as refused:
        cli.main(["run", *argv])
    assert refused.value.code == 2
    assert "usage: gongzhi run" in capsys.readouterr().err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_gongzhi_web_serves_and_stops_cleanly(var_dir: Path, signum: int) -> None:
    port = _free_port()
    running = Running(["web"], _environment(var_dir, port))
    try:
        assert running.wait_for_http(f"http://127.0.0.1:{port}/accounts/login/") == 200
    except BaseException:
        running.kill()
        raise
    assert running.stop(signum, group=False) == 0, running.output
    assert "Shutting down: Master" in running.output


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_gongzhi_worker_starts_and_stops_cleanly(var_dir: Path, signum: int) -> None:
    running = Running(["worker"], _environment(var_dir))
    try:
        running.wait_for_output("Huey consumer started")
    except BaseException:
        running.kill()
        raise
    assert running.stop(signum, group=False) == 0, running.output
    assert "Consumer exiting." in running.output
    started = [line for line in running.lines if "Huey consumer started" in line]
    assert len(started) == 1, started  # each line once, not once per logging handler
