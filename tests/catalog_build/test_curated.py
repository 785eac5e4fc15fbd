"""data/catalog/curated/*.yml: hand-written products, sub-brands under their parent, fits resolved to ids."""
from collections import Counter

import pytest
import yaml

from catalog_build.build import DEFAULT_CURATED_DIR
from catalog_build.curated import curated_record, load_curated, resolve_fits


def entries(category):
    return yaml.safe_load((DEFAULT_CURATED_DIR / f"{category}.yml").read_text(encoding="utf-8"))


def test_curated_files_give_the_committed_products_before_fits(committed):
    log = Counter()
    records, selectors = load_curated(DEFAULT_CURATED_DIR, log)

    assert len(records) == sum(n for reason, n in log.items() if reason.endswith(": products")) >= 200
    for origin, record in records:
        assert origin.startswith(f"curated/{record['category']}.yml entry ")
        assert record == {**committed[record["id"]], "fits": []}
    assert len(selectors) == sum(1 for entry in entries("accessory") if entry.get("fits"))


def test_sub_brand_is_filed_under_its_parent_and_keeps_its_name():
    entry = next(e for e in entries("headphones") if e["brand"] == "redmi" and e["model"] == "Buds 5 Pro")
    record, fits = curated_record("headphones", entry, "headphones.yml")
    assert record["id"] == "headphones-xiaomi-redmi-buds-5-pro"
    assert (record["brand"], record["model"]) == ("xiaomi", "Redmi Buds 5 Pro")
    assert record["name"] == {"en": "Xiaomi Redmi Buds 5 Pro", "zh": "小米 红米Buds 5 Pro"}
    assert fits == []


@pytest.mark.parametrize(
    "model, fits",
    [
        ("iPhone 15 Silicone Case with MagSafe", ["phone-apple-iphone-15"]),  # brand and model pattern
        ("Canvas Go! Plus microSDXC", [  # three brands of action cameras
            "camera-dji-osmo-action-4-standard-combo", "camera-dji-osmo-action-5-pro-standard-combo",
            "camera-dji-osmo-pocket-3-standard", "camera-gopro-hero12-black", "camera-gopro-hero13-black",
            "camera-insta360-x4"]),
    ],
)
def test_fits_selectors_become_the_ids_they_match(committed, model, fits):
    entry = next(e for e in entries("accessory") if e["model"] == model)
    accessory, selectors = curated_record("accessory", entry, "accessory.yml")
    catalog = [dict(r) for pid, r in committed.items() if pid != accessory["id"]] + [accessory]
    resolve_fits(catalog, {accessory["id"]: selectors}, Counter())
    assert accessory["fits"] == fits == committed[accessory["id"]]["fits"]
