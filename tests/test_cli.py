import subprocess
import sys

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
