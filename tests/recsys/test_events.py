"""Event logs: CSV and Parquet read the same; bad logs are refused with a clear message."""
import pandas as pd
import pytest

from recsys.events import EventLogError, Interactions, load_events
from tests.conftest import small_events


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_real_log_formats_load_the_same(tmp_path, suffix, small_catalog):
    path = tmp_path / f"events{suffix}"
    frame = small_events()
    frame.to_parquet(path, index=False) if suffix == ".parquet" else frame.to_csv(path, index=False)
    loaded = load_events(path)
    assert len(loaded) == len(frame)
    assert loaded["timestamp"].is_monotonic_increasing
    matrix = Interactions.from_events(loaded, small_catalog.ids).matrix
    assert matrix.sum() == pytest.approx(Interactions.from_events(frame.assign(timestamp=pd.to_datetime(frame.timestamp, utc=True)), small_catalog.ids).matrix.sum())


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "events.csv"
    small_events().drop(columns=["session_id"]).to_csv(path, index=False)
    with pytest.raises(EventLogError, match="missing columns session_id"):
        load_events(path)


def test_unknown_event_types_are_named(tmp_path):
    path = tmp_path / "events.csv"
    small_events().assign(event_type="wishlist").to_csv(path, index=False)
    with pytest.raises(EventLogError, match="unknown event types wishlist"):
        load_events(path)


def test_events_about_unknown_products_are_dropped_not_crashing(small_catalog):
    frame = pd.concat([small_events(), small_events().head(1).assign(item_id="no-such-product")])
    interactions = Interactions.from_events(frame, small_catalog.ids)
    assert interactions.matrix.shape[1] == len(small_catalog)
