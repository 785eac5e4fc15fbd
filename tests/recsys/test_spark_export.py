"""``python -m recsys export-events``: the Parquet snapshot Spark trains from (no Spark needed here)."""
import json
import sys

import pandas as pd
import pytest
from sqlalchemy import insert

from recsys import Catalog
from recsys.cli import main
from recsys.export import MANIFEST_FILE, EventSnapshot, SnapshotError, export_events
from recsys.shoppers import Snapshot
from recsys.store import StoreError, events_table, open_store


@pytest.fixture
def seeded(small_settings):
    catalog = Catalog.load(small_settings.catalog_path, small_settings.aliases_path)
    store = open_store(small_settings, catalog, seed_log=small_settings.events_path)
    return small_settings, catalog, store


def test_round_trip_keeps_every_event_and_the_serving_ids(seeded, tmp_path):
    settings, catalog, store = seeded
    snapshot = export_events(store, catalog.ids, tmp_path / "snapshots")
    assert snapshot.path.name.startswith("events-") and (snapshot.path / MANIFEST_FILE).exists()
    assert sorted(p.name for p in snapshot.path.glob("date=*")) == ["date=2026-10-01"]
    frame = pd.read_parquet(snapshot.path).sort_values("row")
    assert frame["user"].dtype == "int32" and frame["item"].dtype == "int32"
    original = store.events_frame()
    assert len(frame) == len(original) == snapshot.manifest.n_events
    opened = EventSnapshot.open(snapshot.path)
    decoded_users = [opened.user_ids[u] for u in frame["user"]]
    decoded_items = [opened.item_ids[i] for i in frame["item"]]
    assert decoded_users == list(original["user_id"]) and decoded_items == list(original["item_id"])
    # the int ids are the serving index's rows and columns
    served = Snapshot.read(store, catalog, catalog.ids).interactions
    assert opened.user_ids == served.user_ids and opened.item_ids == list(catalog.ids) == served.item_ids


def test_an_unknown_event_type_stops_the_export_naming_the_row(seeded, tmp_path):
    settings, catalog, store = seeded
    with store.engine.begin() as connection:
        row = connection.execute(insert(events_table), [{"timestamp": pd.Timestamp("2026-10-02T00:00:00Z").to_pydatetime(),
                                                         "user_id": "u", "session_id": "s", "event_type": "teleport",
                                                         "item_id": catalog.ids[0], "value": None}]).inserted_primary_key[0]
    with pytest.raises(StoreError, match=f"event row {row} .*'teleport'"):
        export_events(store, catalog.ids, tmp_path / "snapshots")
    unfinished = next((tmp_path / "snapshots").iterdir())
    with pytest.raises(SnapshotError, match="not a finished event snapshot"):
        EventSnapshot.open(unfinished)


def test_cli_exports_with_a_summary(seeded, tmp_path, monkeypatch, capsys):
    settings, catalog, store = seeded
    for name, value in {"DAOGOU_CATALOG": settings.catalog_path, "DAOGOU_ALIASES": settings.aliases_path,
                        "DAOGOU_DATABASE_URL": settings.database_url, "DAOGOU_MODEL_DIR": settings.model_dir}.items():
        monkeypatch.setenv(name, str(value))
    assert main(["export-events", "--out", str(tmp_path / "out"), "--chunk", "7"]) == 0
    out = capsys.readouterr().out
    assert f"exported {store.event_count()} events of 16 shoppers" in out
    folder = next((tmp_path / "out").iterdir())
    assert json.loads((folder / MANIFEST_FILE).read_text())["n_events"] == store.event_count()
    assert len(list(folder.glob("date=*/part-*.parquet"))) > 1  # written chunk by chunk


def test_engine_spark_without_pyspark_says_what_to_install(seeded, monkeypatch, capsys):
    settings, catalog, store = seeded
    for name, value in {"DAOGOU_CATALOG": settings.catalog_path, "DAOGOU_ALIASES": settings.aliases_path,
                        "DAOGOU_DATABASE_URL": settings.database_url, "DAOGOU_MODEL_DIR": settings.model_dir}.items():
        monkeypatch.setenv(name, str(value))
    for module in ("pyspark", "pyspark.sql"):
        monkeypatch.setitem(sys.modules, module, None)  # import now fails, as without the extra
    assert main(["train", "--engine", "spark"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install -e .[spark]" in err and "openjdk-17-jre-headless" in err
    assert not settings.model_dir.exists()  # nothing trained, nothing written
