"""Daogou's own event log as evaluation sequences."""
from recsys.evaluation.datasets import load_event_log_sequences
from tests.conftest import small_events


def test_event_log_becomes_ordered_sequences_without_repeats_in_a_row(tmp_path, small_catalog):
    events = small_events()
    events = events.sample(frac=1.0, random_state=0)  # the loader orders by time, whatever the file order
    path = tmp_path / "events.csv"
    events.to_csv(path, index=False)
    ids = list(small_catalog.ids)
    data = load_event_log_sequences(path, ids)
    assert data.n_items == len(ids) and data.n_users == events["user_id"].nunique()
    # xiaomi-fan-0 skipped the 4th item (index 3) and viewed+bought the 1st and 3rd: each product once, in order.
    first = data.sequences[sorted(events["user_id"].unique()).index("xiaomi-fan-0")]
    assert [ids[i] for i in first] == ["phone-xiaomi-a", "phone-xiaomi-b", "phone-xiaomi-c"]
