"""Tokens come from the environment or from a private local file, and none is ever committed (issue 21)."""
from __future__ import annotations

import re
import stat
import subprocess
from pathlib import Path

from daogou_server.secrets import TOKEN_NAMES, local_tokens

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_local_tokens_are_made_once_kept_private_and_reused(tmp_path):
    first = local_tokens(tmp_path, environ={})
    assert set(first) == set(TOKEN_NAMES) and all(len(token) >= 24 for token in first.values())
    assert first["DAOGOU_RASA_TOKEN"] != first["DAOGOU_API_TOKEN"]
    path = tmp_path / "secrets.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_tokens(tmp_path, environ={}) == first  # the next run reuses them


def test_the_environment_wins_and_is_not_written_down(tmp_path):
    tokens = local_tokens(tmp_path, environ={"DAOGOU_RASA_TOKEN": "from-the-environment"})
    assert tokens["DAOGOU_RASA_TOKEN"] == "from-the-environment"
    assert "from-the-environment" not in (tmp_path / "secrets.env").read_text()
    assert local_tokens(tmp_path, environ={})["DAOGOU_API_TOKEN"] == tokens["DAOGOU_API_TOKEN"]


# `NAME = "long literal"` / `NAME: long-literal` where NAME says token, secret, password or key.
ASSIGNED_SECRET = re.compile(
    r"""(?i)\b[\w-]*(token|secret|passw(or)?d|api[_-]?key|private[_-]?key)\b["']?\s*[:=]\s*["']?([A-Za-z0-9_\-+/=]{16,})""")
# Values that are visibly not secrets: references to the environment, placeholders.
PLACEHOLDER = re.compile(r"(?i)^(\$|environ|os\.|getenv|change|example|your|xxx|placeholder|secrets\.|token_urlsafe)")


def test_no_committed_file_assigns_a_token_like_value():
    files = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout
    found = []
    for name in files.splitlines():
        path = PROJECT_ROOT / name
        if not path.is_file() or path.suffix in {".png", ".jpg", ".gz", ".db", ".npz", ".parquet"}:
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        for match in ASSIGNED_SECRET.finditer(text):
            value = match.group(3)
            if not PLACEHOLDER.match(value) and re.search(r"\d", value) and re.search(r"[A-Za-z]", value):
                found.append(f"{name}: {match.group(0)[:60]}")
    assert not found, found


def test_the_scan_finds_a_committed_token():
    """The pattern above would catch a real leak (guards the scan against a regex that matches nothing).

    The planted value is put together here, so this file holds no literal the scan would flag."""
    planted = "Zq3xv9LrT0kP2sWm" + "8aB1cD4e"
    assert ASSIGNED_SECRET.search(f"DAOGOU_RASA_TOKEN={planted}")
    assert ASSIGNED_SECRET.search(f'api_key: "{planted}"')
