"""What the recommender tests share beyond tests/conftest.py: two serving processes on one database."""
from __future__ import annotations

import shutil

import pytest

from recsys import Recommender


def ids(recommendations):
    return [r.product.id for r in recommendations]


def two_recommenders(settings, trained_directory):
    """Two Recommenders on one copy of a trained database and model set, as two serving processes are."""
    shutil.copytree(trained_directory / "models", settings.model_dir)
    shutil.copyfile(trained_directory / "daogou.db", settings.model_dir.parent / "daogou.db")
    first = Recommender.from_settings(settings, train_if_missing=False)
    second = Recommender.from_settings(settings, train_if_missing=False)
    assert first.shoppers is not second.shoppers and first.store.engine is not second.store.engine
    return first, second


@pytest.fixture
def two_processes(small_settings, trained_small_directory):
    return two_recommenders(small_settings, trained_small_directory)
