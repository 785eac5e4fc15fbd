"""Fixtures for action tests: the action server's recommender, swapped for a test one."""
import pytest

from actions.services import set_recommender
from recsys import Recommender


@pytest.fixture
def serve():
    """Install a recommender for the actions to use, and take it away after the test."""
    def install(recommender: Recommender) -> Recommender:
        set_recommender(recommender)
        return recommender

    yield install
    set_recommender(None)


@pytest.fixture
def unavailable(monkeypatch):
    """No recommender can load (as when the database is down): every action's first call to it fails."""
    def down(*args, **kwargs):
        raise OSError("database down")

    set_recommender(None)
    monkeypatch.setattr(Recommender, "from_settings", down)
    yield
    set_recommender(None)
