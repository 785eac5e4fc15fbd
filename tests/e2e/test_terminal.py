"""`rasa shell` in a pseudo-terminal, as `make shell` runs it: recommendations read as text, never raw JSON."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pexpect
import pytest

from daogou_server.stack import BIN, PROJECT_ROOT, QUIET_ENV

pytestmark = pytest.mark.e2e
PROMPT = "Your input ->"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def shell(stack):
    """`rasa shell` on the stack's model, with the stack's action server and its own conversation store."""
    endpoints = stack.var_dir / "shell-endpoints.yml"
    endpoints.write_text((stack.var_dir / "endpoints.yml").read_text().replace("conversations.db", "shell-conversations.db"))
    env = {**QUIET_ENV, "PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(stack.var_dir), "TERM": "dumb", "COLUMNS": "200"}
    child = pexpect.spawn(str(BIN / "rasa"), ["shell", "--model", str(stack.rasa_model), "--endpoints", str(endpoints)],
                          cwd=str(PROJECT_ROOT), env=env, encoding="utf-8", timeout=300, dimensions=(50, 200))
    child.logfile_read = (stack.var_dir / "shell.log").open("w")
    child.expect(PROMPT)
    yield child
    child.sendcontrol("c")
    child.close(force=True)


def ask(child: pexpect.spawn, message: str) -> str:
    child.sendline(message)
    child.expect(PROMPT, timeout=120)
    return ANSI.sub("", child.before)


@pytest.mark.parametrize("message, marker, category_word", [
    ("recommend me a phone under 3000", "Here are", "¥"), ("推荐一款3000元以内的手机", "为你推荐", "¥"),
])
def test_a_recommendation_prints_as_readable_text(shell, message, marker, category_word):
    screen = ask(shell, message)
    assert marker in screen, screen
    assert re.search(r"^\s*1\. .+¥[\d,]+", screen, re.M), screen  # a numbered list with prices
    assert '"type"' not in screen and '"products"' not in screen and "{" not in screen, screen
