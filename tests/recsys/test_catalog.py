import json
from pathlib import Path

import pytest

from recsys import Catalog, CatalogError
from recsys.catalog import CATEGORIES
from tests.conftest import SMALL_CATALOG, make_product, write_catalog

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def load(tmp_path: Path, rows) -> Catalog:
    products, aliases = write_catalog(tmp_path, rows)
    return Catalog.load(products, aliases)


def test_small_catalog_loads(tmp_path):
    catalog = load(tmp_path, SMALL_CATALOG)
    assert len(catalog) == len(SMALL_CATALOG)
    assert catalog.get("phone-xiaomi-a").price == 1299
    assert catalog.get("no-such-product") is None


@pytest.mark.parametrize(
    "broken, message",
    [
        ({"price": None}, "price"),
        ({"stock": -1}, "stock"),
        ({"category": "car"}, "unknown category 'car'"),
        ({"brand": "acme"}, "brand 'acme' is not in the alias table"),
        ({"id": "Not An Id"}, "id"),
    ],
)
def test_invalid_row_is_named_and_nothing_loads(tmp_path, broken, message):
    rows = [dict(r) for r in SMALL_CATALOG]
    rows[3].update(broken)
    with pytest.raises(CatalogError) as error:
        load(tmp_path, rows)
    assert "products.jsonl:4" in str(error.value)
    assert message in str(error.value)


def test_duplicate_id_names_both_lines(tmp_path):
    rows = SMALL_CATALOG + [make_product("phone-xiaomi-a", "phone", "xiaomi", 999)]
    with pytest.raises(CatalogError, match=r"products.jsonl:11: duplicate id 'phone-xiaomi-a' \(first on line 1\)"):
        load(tmp_path, rows)


def test_malformed_json_is_reported(tmp_path):
    products, aliases = write_catalog(tmp_path, SMALL_CATALOG)
    products.write_text(products.read_text() + "{not json\n")
    with pytest.raises(CatalogError, match="products.jsonl:11: not valid JSON"):
        Catalog.load(products, aliases)


def test_aliases_resolve_both_languages(small_catalog):
    aliases = small_catalog.aliases
    assert aliases.resolve_brand("苹果") == aliases.resolve_brand("Apple") == "apple"
    assert aliases.resolve_category("手机") == aliases.resolve_category("Phones") == "phone"
    assert aliases.display("brand", "apple", "zh") == "苹果"
    assert aliases.display("category", "phone", "en") == "Phone"
    assert aliases.resolve_brand("acme") is None


def test_find_in_text_needs_whole_latin_words(small_catalog):
    aliases = small_catalog.aliases
    assert aliases.find_in_text("brand", "an ipad mini please") == []  # "mi" inside "mini" is no Xiaomi
    assert aliases.find_in_text("brand", "推荐一款小米手机") == ["xiaomi"]
    assert aliases.find_in_text("category", "any good phone under 3000") == ["phone"]


def test_mask_applies_every_constraint(small_catalog):
    mask = small_catalog.mask(category="phone", brand="apple", max_price=6000)
    assert [p.id for p, keep in zip(small_catalog.products, mask) if keep] == ["phone-apple-a"]  # the 2999 one is out of stock


def test_committed_catalog_is_valid_and_covers_phones_and_laptops():
    catalog = Catalog.load(PROJECT_ROOT / "data/catalog/products.jsonl", PROJECT_ROOT / "data/catalog/aliases.yml")
    counts = {c: int((catalog.categories == c).sum()) for c in CATEGORIES}
    assert counts["phone"] >= 300 and counts["laptop"] >= 300
    assert all(p.currency == "CNY" and p.price > 0 for p in catalog.products)
    assert all(p.name["en"] and p.name["zh"] for p in catalog.products)
    # Enough choice for the walking skeleton's example: phones within ¥3000 that are in stock.
    assert catalog.mask(category="phone", max_price=3000).sum() >= 20
