"""Production settings are safe by default, and `check --deploy` finds nothing to warn about.

Each test starts a fresh interpreter with a clean environment (the test settings module has
already filled this process's environment with test defaults), so it sees exactly what a
production process started with those variables would see.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_SETTINGS = "gongzhi.config.settings"


def _production_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("GONGZHI_") and name not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": PRODUCTION_SETTINGS,
            "GONGZHI_SECRET_KEY": "Zr3-production-like-secret-" + "k7Qx9" * 10,
            "GONGZHI_FIELD_KEYS": Fernet.generate_key().decode(),
            "GONGZHI_LOOKUP_KEY": "lookup-key-for-the-deploy-test-0123456789",
            "GONGZHI_ALLOWED_HOSTS": "gongzhi.example.org",
            "GONGZHI_VAR_DIR": str(tmp_path / "var"),
        }
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


_PRINT_SETTINGS = """
import json
import django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name) for name in (
    "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS", "ALLOWED_HOSTS")}))
"""


def test_check_deploy_passes_with_production_settings_and_no_warning(tmp_path: Path) -> None:
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = _run(["manage.py", "check"], _production_env(tmp_path, GONGZHI_SECRET_KEY=None))

    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: GONGZHI_SECRET_KEY" in result.stderr


def test_production_settings_refuse_to_start_without_encryption_keys(tmp_path: Path) -> None:
    result = _run(["manage.py", "check"], _production_env(tmp_path, GONGZHI_FIELD_KEYS=None))

    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: GONGZHI_FIELD_KEYS" in result.stderr


def test_debug_is_off_and_cookies_secure_by_default(tmp_path: Path) -> None:
    result = _run(["-c", _PRINT_SETTINGS], _production_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "ALLOWED_HOSTS": ["gongzhi.example.org"],
    }


def test_debug_is_on_only_when_asked(tmp_path: Path) -> None:
    result = _run(["-c", _PRINT_SETTINGS], _production_env(tmp_path, GONGZHI_DEBUG="1"))

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["DEBUG"] is True


# --- Redis: the production queue and cache ------------------------------------------------

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# Database 15 keeps the smoke test's keys away from a development queue on database 0.
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/15"

_HUEY_SMOKE = """
import django
django.setup()
from django.core.cache import cache
from huey import RedisHuey
from huey.contrib.djhuey import HUEY

assert isinstance(HUEY, RedisHuey), type(HUEY)

@HUEY.task()
def add(a, b):
    return a + b

consumer = HUEY.create_consumer(workers=1, worker_type="thread", periodic=False)
consumer.start()
try:
    result = add(20, 22)
    print("task", result.get(blocking=True, timeout=20))
finally:
    consumer.stop(graceful=True)

cache.set("gongzhi-smoke", "ok", 30)
print("cache", cache.get("gongzhi-smoke"), type(cache._cache).__name__)
"""


def _redis_reachable() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1):
            return True
    except OSError:
        return False


def test_huey_with_redis_settings_enqueues_and_runs_a_task(tmp_path: Path) -> None:
    if not _redis_reachable():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT}; .ci/run must start it")
        pytest.skip(f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT}")

    result = _run(["-c", _HUEY_SMOKE], _production_env(tmp_path, GONGZHI_REDIS_URL=REDIS_URL))

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["task 42", "cache ok RedisCacheClient"]


# --- The README documents every variable ------------------------------------------------

_READS = re.compile(r'(?:env_\w+|os\.environ\.get|os\.environ\.setdefault)\(\s*"(GONGZHI_\w+)"')


def test_every_environment_variable_the_code_reads_is_in_the_readme_table() -> None:
    sources = [
        path
        for path in (ROOT / "gongzhi").rglob("*.py")
        if "tests" not in path.parts and path.name not in {"settings_test.py", "testing.py"}
    ]
    read = {name for path in sources for name in _READS.findall(path.read_text(encoding="utf-8"))}
    documented = set(
        re.findall(r"^\| `(GONGZHI_\w+)`", (ROOT / "README.md").read_text(encoding="utf-8"), re.M)
    )

    assert "GONGZHI_SECRET_KEY" in read
    assert sorted(read - documented) == []  # read but not documented
    assert sorted(documented - read) == []  # documented but no longer read
