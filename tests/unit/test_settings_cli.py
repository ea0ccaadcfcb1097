"""Settings and the `linli` command line: bad configuration is one clear line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import DEFAULT_API_URL, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_", "STAFF_"))}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=full_env,
                          cwd=cwd or ROOT, timeout=60, check=False)


def test_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for key in ("BOT_TOKEN", "BOT_API_URL", "DATABASE_URL", "STAFF_CHAT_ID"):
        monkeypatch.delenv(key, raising=False)
    s = load_settings()
    assert s.bot_token is None
    assert s.bot_api_url == DEFAULT_API_URL
    assert s.file_url == "https://api.telegram.org/file/bot"
    assert s.database_url.startswith("sqlite+aiosqlite:///")


def test_emulator_url_derives_file_url() -> None:
    s = load_settings(bot_api_url="http://127.0.0.1:8081/bot")
    assert s.file_url == "http://127.0.0.1:8081/file/bot"


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("bot_token", "not-a-token", "BOT_TOKEN"),
        ("bot_api_url", "ftp://example", "BOT_API_URL"),
        ("database_url", "mysql://x", "DATABASE_URL"),
        ("staff_chat_id", "abc", "STAFF_CHAT_ID"),
        ("community_file", "/nonexistent/community.toml", "COMMUNITY_FILE"),
        ("intents_floor", "1.5", "INTENTS_FLOOR"),
        ("group_reserve", "20", "GROUP_RESERVE"),  # a group's whole minute kept back: nothing would ever go
    ],
)
def test_bad_setting_names_itself(field: str, value: str, named: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(**{field: value})
    assert named in err.value.message
    assert "\n" not in err.value.message


def test_group_reserve_is_the_paced_bot_s_setting(tmp_path: Path) -> None:
    """GROUP_RESERVE reaches the pacer the sender and the handlers share (the unpaced bot has none to spread)."""
    from bot import sender
    from bot.app import build_application

    settings = load_settings(group_reserve=8, database_url=f"sqlite+aiosqlite:///{tmp_path / 'linli.db'}")
    assert build_application(settings).bot_data[sender.PACER_KEY].group_reserve == 8
    assert load_settings().group_reserve == sender.GROUP_RESERVE


def test_cli_bad_setting_is_one_line_and_exit_2() -> None:
    proc = run_cli("check", env={"BOT_TOKEN": "oops"})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "BOT_TOKEN" in lines[0]
    assert "Traceback" not in proc.stderr


def test_cli_bad_community_file_names_key(tmp_path: Path) -> None:
    bad = tmp_path / "community.toml"
    bad.write_text((ROOT / "bot/data/community.toml").read_text(encoding="utf-8").replace(
        'code = "A02"', 'cod = "A02"', 1), encoding="utf-8")
    proc = run_cli("check", env={"COMMUNITY_FILE": str(bad)})
    assert proc.returncode == 2
    assert "community.toml" in proc.stderr and "grids[1]" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_check_and_migrate(tmp_path: Path) -> None:
    db = tmp_path / "x" / "linli.db"
    proc = run_cli("check")
    assert proc.returncode == 0, proc.stderr
    assert "金桂社区" in proc.stdout
    proc = run_cli("migrate", env={"DATABASE_URL": f"sqlite+aiosqlite:///{db}"})
    assert proc.returncode == 0, proc.stderr
    assert db.exists()
