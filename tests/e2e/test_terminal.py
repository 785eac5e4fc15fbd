"""`rasa shell` in a pseudo-terminal: recommendations read from the screen, as text, in each language.

The action server starts as ``make run`` starts it (``daogou_server.stack``), without Rasa's HTTP server
or the shop API: ``rasa shell`` runs its own Rasa on a free port and the console channel (``cmdline``),
which ``Turn.show`` answers with text alone (``actions/base.py``).
"""
from __future__ import annotations

import re
import secrets
import sys
from pathlib import Path

import pexpect
import pytest

from daogou_server.processes import ServerGroup, free_port
from daogou_server.stack import BIN, PROJECT_ROOT, QUIET_ENV, StackConfig, servers
from tests.e2e.conftest import RASA_MODEL, STARTUP_SECONDS

pytestmark = pytest.mark.e2e

PROMPT = "Your input ->"
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    workdir: Path = tmp_path_factory.mktemp("terminal")
    config = StackConfig(rasa_model=RASA_MODEL, var_dir=workdir, rasa_token=secrets.token_urlsafe(16),
                         api_token=secrets.token_urlsafe(16), action_port=free_port(), with_shop_api=False)
    action_server = servers(config)[:1]  # writes workdir/endpoints.yml pointing at this action server
    with ServerGroup(action_server, workdir / "logs", STARTUP_SECONDS):
        env = {**dict(action_server[0].env), "TERM": "dumb", "COLUMNS": "200", "LINES": "50",
               "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
        child = pexpect.spawn(str(BIN / "rasa"), ["shell", "--model", str(RASA_MODEL), "--endpoints", str(workdir / "endpoints.yml"),
                                                  "--port", str(free_port())],
                              cwd=str(PROJECT_ROOT), env=env, encoding="utf-8", timeout=STARTUP_SECONDS, dimensions=(50, 200))
        child.logfile_read = open(workdir / "shell.log", "w", encoding="utf-8")
        try:
            child.expect_exact(PROMPT)
            yield child
        finally:
            child.terminate(force=True)


def ask(child: pexpect.spawn, message: str, opening: str) -> str:
    """Type a message, press Enter, and return the bot's answer from its opening words to the next prompt.

    The prompt's own line is redrawn as the shopper types, so the answer is found by its opening words
    (a wrong-language or missing answer times out), and read on up to the prompt that follows it.
    """
    child.sendline(message)
    child.expect_exact(opening, timeout=120)
    child.expect_exact(PROMPT, timeout=60)
    return opening + ANSI.sub("", child.before)


@pytest.mark.parametrize("message, opening", [("recommend me a phone under 3000", "Here are"), ("推荐一款3000元以内的手机", "为你推荐")])
def test_recommendation_prints_as_text(shell, message, opening):
    screen = ask(shell, message, opening)
    assert re.search(r"(?m)^\s*1\. ", screen) and re.search(r"(?m)^\s*2\. ", screen) and "¥" in screen, screen  # the list itself
    assert '"type"' not in screen and '"products"' not in screen and "{" not in screen, screen  # never raw JSON
