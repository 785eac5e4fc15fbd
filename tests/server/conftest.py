"""Fixtures shared by the Rasa plug-in tests."""
from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    """The assistant's own domain: its slots are what the stored conversations set."""
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))
