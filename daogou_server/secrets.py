"""The tokens that guard Rasa's HTTP API and the shop API's writes: from the environment, or made once locally.

A deployment sets ``DAOGOU_RASA_TOKEN`` and ``DAOGOU_API_TOKEN``. A laptop that sets neither gets random
ones, kept in ``var/secrets.env`` (mode 0600, never committed: ``var/`` is ignored) so that a restart
keeps the tokens the developer already pasted somewhere.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Dict, Mapping, Optional

TOKEN_NAMES = ("DAOGOU_RASA_TOKEN", "DAOGOU_API_TOKEN")


def _read(path: Path) -> Dict[str, str]:
    if not path.is_file():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def local_tokens(var_dir: Path, environ: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """Each token from the environment if set, else from ``var/secrets.env``, else a new one saved there."""
    environ = os.environ if environ is None else environ
    path = Path(var_dir) / "secrets.env"
    saved = _read(path)
    tokens = {name: environ.get(name) or saved.get(name) or secrets.token_urlsafe(24) for name in TOKEN_NAMES}
    generated = {name: value for name, value in tokens.items() if not environ.get(name)}
    if generated and generated != {k: saved.get(k) for k in generated}:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_text("# Local tokens made by `make run`; set the variables in the environment to use your own.\n"
                        + "".join(f"{name}={value}\n" for name, value in generated.items()))
    return tokens
