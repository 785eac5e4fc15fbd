"""The demo shop's own files: nothing parsed as HTML from data, nothing fetched from another machine."""
from __future__ import annotations

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "shop_api" / "static"
OWN_SCRIPTS = sorted(STATIC.glob("*.js"))  # vendor/ is socket.io-client, vendored as published


def test_the_pages_scripts_never_parse_data_as_html():
    assert {p.name for p in OWN_SCRIPTS} >= {"shop.js", "chat.js"}
    for script in OWN_SCRIPTS:
        text = re.sub(r"(?m)^\s*//.*$", "", script.read_text(encoding="utf-8"))  # the comments may name them
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in text, f"{script.name} uses {sink}: bot and shopper text must go through textContent"


def test_the_page_loads_only_its_own_files():
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(not re.match(r"^(https?:)?//", s) for s in sources), sources
    for source in sources:
        if not source.startswith(("#", "data:")):
            assert (STATIC / source).is_file(), source
