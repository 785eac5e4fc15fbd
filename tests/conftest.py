"""Shared fixtures: a small deterministic catalog and event log in a temporary directory."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Dict, List

import pandas as pd
import pytest
import yaml

from recsys import Catalog, Recommender, Settings, load_taxonomy

#: The real categories (from data/catalog/taxonomy.yml, their one list) and a few brands.
ALIASES = {
    "categories": load_taxonomy().alias_table()["categories"],
    "brands": {
        "apple": {"en": "Apple", "zh": "苹果", "aliases": ["apple", "iphone", "苹果"]},
        "xiaomi": {"en": "Xiaomi", "zh": "小米", "aliases": ["xiaomi", "mi", "小米"]},
        "lenovo": {"en": "Lenovo", "zh": "联想", "aliases": ["lenovo", "联想"]},
    },
}


def make_product(pid: str, category: str, brand: str, price: float, stock: int = 10, rating: float = 4.0) -> Dict:
    model = pid.split("-", 2)[-1].replace("-", " ").title()
    return {
        "id": pid, "category": category, "brand": brand, "model": model,
        "name": {"en": f"{brand.title()} {model}", "zh": f"{ALIASES['brands'][brand]['zh']} {model}"},
        "price": price, "list_price": price, "currency": "CNY", "stock": stock, "rating": rating,
        "review_count": None, "release_year": None, "specs": {}, "description": None,
        "selling_points": {"en": [], "zh": []}, "source": "test",
    }


SMALL_CATALOG: List[Dict] = [
    make_product("phone-xiaomi-a", "phone", "xiaomi", 1299),
    make_product("phone-xiaomi-b", "phone", "xiaomi", 2499),
    make_product("phone-xiaomi-c", "phone", "xiaomi", 3999),
    make_product("phone-apple-a", "phone", "apple", 5999),
    make_product("phone-apple-b", "phone", "apple", 8999),
    make_product("phone-apple-out", "phone", "apple", 2999, stock=0),
    make_product("laptop-lenovo-a", "laptop", "lenovo", 4599),
    make_product("laptop-lenovo-b", "laptop", "lenovo", 6999),
    make_product("laptop-apple-a", "laptop", "apple", 9999),
    make_product("accessory-apple-charger", "accessory", "apple", 149),
]

#: The small catalog with specs and a compatibility link, so product details, comparisons and
#: accessories have something to say (a separate catalog: specs change the content model's reasons).
RICH_CATALOG: List[Dict] = [dict(r) for r in SMALL_CATALOG]
RICH_CATALOG[0]["specs"] = {"ram_gb": 6, "storage_gb": 128, "battery_mah": 5000, "has_nfc": False}
RICH_CATALOG[1]["specs"] = {"ram_gb": 8, "storage_gb": 256, "battery_mah": 5100, "has_nfc": True}
RICH_CATALOG[3]["specs"] = {"ram_gb": 8, "storage_gb": 256, "battery_mah": 3349, "has_nfc": True}
RICH_CATALOG[9]["fits"] = ["phone-apple-a", "phone-apple-b", "laptop-apple-a"]


def write_catalog(directory: Path, rows: List[Dict], aliases: Dict = ALIASES) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    products = directory / "products.jsonl"
    products.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    alias_path = directory / "aliases.yml"
    alias_path.write_text(yaml.safe_dump(aliases, allow_unicode=True), encoding="utf-8")
    return products, alias_path


def small_events() -> pd.DataFrame:
    """Two taste groups: Xiaomi phone shoppers and Apple shoppers, plus one cross-over."""
    rows = []
    t = pd.Timestamp("2026-10-01T00:00:00Z")
    groups = {
        "xiaomi": ["phone-xiaomi-a", "phone-xiaomi-b", "phone-xiaomi-c", "laptop-lenovo-a"],
        "apple": ["phone-apple-a", "phone-apple-b", "laptop-apple-a", "accessory-apple-charger"],
    }
    for group, items in groups.items():
        for u in range(8):
            user = f"{group}-fan-{u}"
            for i, item in enumerate(items):
                if (u + i) % 4 == 3:
                    continue  # each fan skips one item, so there is something to recommend
                rows.append((t, user, f"{user}-s0", "view", item, None))
                if i % 2 == 0:
                    rows.append((t, user, f"{user}-s0", "purchase", item, None))
                t += pd.Timedelta(minutes=5)
    return pd.DataFrame(rows, columns=["timestamp", "user_id", "session_id", "event_type", "item_id", "value"])


def settings_in(directory: Path, rows: List[Dict] = SMALL_CATALOG) -> Settings:
    """Settings for the small catalog (or ``rows``) and event log, written into ``directory``."""
    products, aliases = write_catalog(directory / "catalog", rows)
    events_path = directory / "events.csv"
    small_events().to_csv(events_path, index=False)
    return Settings(catalog_path=products, aliases_path=aliases, events_path=events_path, model_dir=directory / "models",
                    database_url=f"sqlite:///{directory / 'daogou.db'}")


@pytest.fixture
def small_settings(tmp_path: Path) -> Settings:
    return settings_in(tmp_path)


@pytest.fixture
def small_catalog(small_settings: Settings) -> Catalog:
    return Catalog.load(small_settings.catalog_path, small_settings.aliases_path)


@pytest.fixture(scope="session")
def trained_small_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small recommender trained once per test session (training the GRU takes seconds)."""
    directory = tmp_path_factory.mktemp("small-trained")
    Recommender.train(settings_in(directory), show_progress=False)
    return directory


@pytest.fixture
def small_recommender(small_settings: Settings, trained_small_directory: Path) -> Recommender:
    """A private copy of the trained small recommender: its database and models, loaded from files."""
    shutil.copytree(trained_small_directory / "models", small_settings.model_dir)
    shutil.copyfile(trained_small_directory / "daogou.db", small_settings.model_dir.parent / "daogou.db")
    return Recommender.from_settings(small_settings, train_if_missing=False)


@pytest.fixture(scope="session")
def trained_rich_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small recommender over the catalog with specs and links, trained once per session."""
    directory = tmp_path_factory.mktemp("rich-trained")
    Recommender.train(settings_in(directory, RICH_CATALOG), show_progress=False)
    return directory


@pytest.fixture
def rich_recommender(tmp_path: Path, trained_rich_directory: Path) -> Recommender:
    """A private copy of the trained recommender over the catalog with specs and links."""
    settings = settings_in(tmp_path / "rich", RICH_CATALOG)
    shutil.copytree(trained_rich_directory / "models", settings.model_dir)
    shutil.copyfile(trained_rich_directory / "daogou.db", settings.model_dir.parent / "daogou.db")
    return Recommender.from_settings(settings, train_if_missing=False)
