"""What ``make run`` prints: the shop page's URL finds Rasa wherever it listens."""
from __future__ import annotations

import re
from pathlib import Path

from daogou_server.launcher import banner
from daogou_server.stack import StackConfig


def shop_line(**ports) -> str:
    config = StackConfig(rasa_model=Path("m.tar.gz"), var_dir=Path("var"), rasa_token="r", api_token="a", **ports)
    return re.search(r"demo shop and chat\s+(\S+)", banner(config)).group(1)


def test_the_default_ports_give_the_plain_shop_url():
    assert shop_line() == "http://127.0.0.1:8000/"


def test_rasa_elsewhere_is_named_in_the_shop_url_the_page_reads():
    assert shop_line(rasa_port=6005, api_port=9000) == "http://127.0.0.1:9000/?rasa=http://127.0.0.1:6005"
