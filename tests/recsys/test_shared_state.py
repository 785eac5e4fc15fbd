"""The database is the one truth about shoppers: several serving processes on one database answer alike.

Two :class:`Recommender` instances on one SQLite file stand for two processes (an
action server and the shop site's API): neither shares memory with the other, so
whatever one records or forgets reaches the other only through the database.
"""
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path


from recsys import RecommendationQuery, Recommender
from tests.recsys.conftest import ids
from recsys.store import Store




def test_an_event_recorded_through_one_changes_the_others_next_recommendation(two_processes):
    first, second = two_processes
    query = RecommendationQuery(user_id="newcomer", k=2)
    assert {r.reason.code for r in second.recommend(query)} == {"popular"}  # the second has looked: it caches
    for item in ("phone-apple-a", "phone-apple-b"):
        first.record_event("newcomer", item, "view")
    after = second.recommend(query)
    assert {r.product.brand for r in after} == {"apple"} and "popular" not in {r.reason.code for r in after}
    assert "phone-apple-a" not in ids(after)  # seen, through the other process
    assert second.history("newcomer").nnz == 2


def test_a_trained_shopper_who_acts_elsewhere_is_folded_in_not_served_stale_factors(two_processes):
    first, second = two_processes
    shoppers = second.shoppers
    assert shoppers.model_row(shoppers.get("apple-fan-0")) is not None  # unchanged since training
    for item in ("phone-xiaomi-a", "phone-xiaomi-b", "phone-xiaomi-c"):
        first.record_event("apple-fan-0", item, "purchase")
    assert shoppers.model_row(shoppers.get("apple-fan-0")) is None
    recs = second.recommend(RecommendationQuery(user_id="apple-fan-0", category="laptop", k=1))
    assert ids(recs) == ["laptop-lenovo-a"]  # the Xiaomi buyers' laptop, from the new history


def test_a_dislike_recorded_through_one_holds_in_the_other(two_processes):
    first, second = two_processes
    query = RecommendationQuery(user_id="picky", category="phone", k=3, exclude_seen=False)
    disliked = ids(second.recommend(query))[0]
    first.record_event("picky", disliked, "rating", value=1)
    assert disliked not in ids(second.recommend(query))
    first.record_event("picky", disliked, "rating", value=5)  # changed their mind
    assert disliked in ids(second.recommend(query))


def test_forget_me_through_one_empties_the_others_view(two_processes):
    first, second = two_processes
    query = RecommendationQuery(user_id="apple-fan-1", k=3)
    assert {r.reason.code for r in second.recommend(query)} - {"popular"}  # personal, and now cached
    assert second.history("apple-fan-1").nnz > 0 and second.shopper_data("apple-fan-1")
    assert first.forget("apple-fan-1") > 0
    assert second.history("apple-fan-1").nnz == 0
    assert second.sequence("apple-fan-1").size == 0
    assert second.shopper_data("apple-fan-1") == []
    assert second.shoppers.model_row(second.shoppers.get("apple-fan-1")) is None  # never their old factors
    assert {r.reason.code for r in second.recommend(query)} == {"popular"}  # a new shopper again
    second.record_event("apple-fan-1", "laptop-lenovo-a", "view")  # a new history, not the old one
    assert list(first.sequence("apple-fan-1")) == [first.catalog.index["laptop-lenovo-a"]]


WRITER = textwrap.dedent("""
    import sys
    from recsys.store import Store
    store = Store(sys.argv[1])
    for i in range(int(sys.argv[2])):
        store.record_event("from-another-process", "phone-xiaomi-a", "view")
""")


def test_processes_write_at_once_without_losing_an_event(two_processes, small_settings):
    first, second = two_processes
    writes = 40
    child = subprocess.Popen([sys.executable, "-c", WRITER, small_settings.database_url, str(writes)],
                             cwd=Path(__file__).resolve().parents[2], stderr=subprocess.PIPE, text=True)
    for _ in range(writes):
        first.record_event("from-this-process", "phone-xiaomi-b", "view")
        second.recommend(RecommendationQuery(user_id="from-another-process", k=1))
    _, errors = child.communicate(timeout=120)
    assert child.returncode == 0, errors
    store = Store(small_settings.database_url)
    assert len(store.events_frame("from-another-process")) == writes
    assert len(store.events_frame("from-this-process")) == writes
    assert second.history("from-another-process").sum() == writes  # every view, weight 1


def test_models_that_did_not_record_shoppers_events_use_factors_only_on_the_events_they_saw(small_settings, trained_small_directory):
    """Artefacts written before users.jsonl (users.txt only) still load; their factors serve a shopper only
    while the database holds exactly the events they were trained on, and that shopper has not changed."""
    shutil.copytree(trained_small_directory / "models", small_settings.model_dir)
    shutil.copyfile(trained_small_directory / "daogou.db", small_settings.model_dir.parent / "daogou.db")
    trained = [json.loads(line)[0] for line in (small_settings.model_dir / "users.jsonl").read_text().splitlines()]
    (small_settings.model_dir / "users.txt").write_text("".join(f"{u}\n" for u in trained))
    (small_settings.model_dir / "users.jsonl").unlink()
    legacy = Recommender.from_settings(small_settings, train_if_missing=False)
    assert legacy.shoppers.model_row(legacy.shoppers.get("apple-fan-2")) == trained.index("apple-fan-2")
    legacy.record_event("apple-fan-2", "phone-xiaomi-a", "view")
    assert legacy.shoppers.model_row(legacy.shoppers.get("apple-fan-2")) is None
    reopened = Recommender.from_settings(small_settings, train_if_missing=False)  # the events differ now
    assert reopened.shoppers.model_row(reopened.shoppers.get("apple-fan-3")) is None
    assert reopened.recommend(RecommendationQuery(user_id="apple-fan-3", k=2))  # folded in instead
