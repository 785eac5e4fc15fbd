"""Background retraining: the old models answer meanwhile, the new set swaps into every process, a failure
leaves the old models serving and says why; one scheduled run per deployment."""
import shutil
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from recsys import RecommendationQuery, Recommender
from tests.recsys.conftest import ids
from recsys.artifacts import CURRENT_FILE, current_directory
from recsys import retraining
from recsys.retraining import claim, claim_scheduled_run, read_status, run_retrain
from recsys.settings import parse_duration

QUERY = RecommendationQuery(user_id="xiaomi-fan-1", k=3)




def test_the_old_models_answer_during_a_retrain_and_the_new_set_swaps_into_both(two_processes, monkeypatch):
    first, second = two_processes
    old = second.health()
    for item in ("phone-apple-a", "laptop-apple-a"):
        first.record_event("late-shopper", item, "purchase")
    training, release = threading.Event(), threading.Event()
    fit = retraining.fit_and_save

    def slow_fit(*args, **kwargs):
        training.set()
        assert release.wait(60)
        return fit(*args, **kwargs)

    monkeypatch.setattr(retraining, "fit_and_save", slow_fit)
    worker = threading.Thread(target=run_retrain, args=(first.settings,))
    worker.start()
    try:
        assert training.wait(60)
        running = second.health().retrain
        assert running.state == "running" and running.n_events == old.trained_on_events + 2
        assert ids(second.recommend(QUERY)) and second.health().model_directory == old.model_directory
    finally:
        release.set()
        worker.join(120)
    status = read_status(first.store)
    assert status.state == "succeeded" and status.error is None and status.finished_at
    assert (first.settings.model_dir / CURRENT_FILE).exists()
    for process in (first, second):
        assert ids(process.recommend(QUERY))  # the next request swaps the new set in
        health = process.health()
        assert health.model_directory == str(current_directory(first.settings.model_dir)) != old.model_directory
        assert health.trained_on_events == old.trained_on_events + 2 and health.retrain.state == "succeeded"


def test_a_failed_retrain_leaves_the_old_models_serving_and_says_why(two_processes, caplog):
    first, second = two_processes
    before = ids(second.recommend(QUERY))
    old = second.health().model_directory
    broken = replace(first.settings, models=("popularity", "no-such-model"))
    status = run_retrain(broken)
    assert status.state == "failed" and "no-such-model" in status.error
    assert "retrain failed" in caplog.text
    assert not (first.settings.model_dir / CURRENT_FILE).exists()
    assert not any((first.settings.model_dir / "sets").iterdir())  # the half-written set is gone
    for process in (first, second):
        assert not process.reload_if_changed()
        assert process.health().model_directory == old and process.health().retrain.error == status.error
    assert ids(second.recommend(QUERY)) == before


def test_start_retrain_trains_in_a_child_process_and_a_second_start_does_not_double_it(two_processes):
    first, second = two_processes
    started = first.start_retrain()
    assert started.state == "running"
    assert second.start_retrain().started_at == started.started_at  # the running one, not another
    assert ids(second.recommend(QUERY))  # served meanwhile
    deadline = time.monotonic() + 600  # a bound on waiting for the child, not a speed claim
    while read_status(first.store).state == "running" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert read_status(first.store).state == "succeeded"
    ids(second.recommend(QUERY))
    assert second.health().model_directory == str(current_directory(first.settings.model_dir))


def test_only_one_claim_wins(small_recommender):
    store = small_recommender.store
    assert claim(store) and not claim(store)


def test_one_scheduled_run_per_period_for_the_whole_deployment(two_processes):
    first, second = two_processes
    now = datetime.now(timezone.utc)
    assert not claim_scheduled_run(first.store, 3600, now)  # the first call only sets the schedule
    due = now + timedelta(hours=1, seconds=1)
    winners = [claim_scheduled_run(process.store, 3600, due) for process in (first, second, first)]
    assert winners.count(True) == 1
    assert claim_scheduled_run(second.store, 3600, due + timedelta(hours=1))  # next period


@pytest.mark.parametrize("text, seconds", [("6h", 21600), ("30m", 1800), ("90s", 90), ("1d", 86400), ("", None), ("off", None)])
def test_retrain_every_is_read_as_a_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "-5m", "h"])
def test_a_bad_retrain_every_is_refused(text):
    with pytest.raises(ValueError, match="DAOGOU_RETRAIN_EVERY"):
        parse_duration(text)


def test_a_process_with_a_schedule_starts_the_retrain_it_wins(small_settings, trained_small_directory, monkeypatch):
    shutil.copytree(trained_small_directory / "models", small_settings.model_dir)
    shutil.copyfile(trained_small_directory / "daogou.db", small_settings.model_dir.parent / "daogou.db")
    started = threading.Event()
    wins = iter([False, True])
    monkeypatch.setattr(retraining, "claim_scheduled_run", lambda store, every: next(wins, False))
    monkeypatch.setattr(retraining, "start_retrain", lambda settings, store: started.set())
    recommender = Recommender.from_settings(replace(small_settings, retrain_every=1.0), train_if_missing=False)
    try:
        assert recommender._scheduler is not None and recommender._scheduler.is_alive()
        assert started.wait(30)  # the second check wins the period and starts the retrain
    finally:
        recommender._scheduler.stop()
    assert Recommender.from_settings(small_settings, train_if_missing=False)._scheduler is None  # off by default
