"""laptops_europe.csv: real rows, with the file's lost makers and accents repaired."""
from catalog_build.eu_laptops import load_laptops, parse_storage
from tests.catalog_build.conftest import LAPTOPS, source_records


def test_real_rows_give_the_committed_products(sample_source, committed):
    # Lines 153 and 1188: a Dell Inspiron 7567 and 5578. Lines 1012 and 1054: the same two laptops
    # in other configurations, without a maker. Line 868: a Toshiba 'Port\ufffdg\ufffd' (accents lost).
    records, log = source_records(load_laptops, sample_source(laptops=(153, 1012, 1054, 1188, 868)) / LAPTOPS)

    assert len(records) == 5
    for product_id, record in records.items():
        assert record == committed[product_id]
    assert {r["brand"] for r in records.values()} == {"dell", "toshiba"}
    assert log["laptops: maker filled in from the same product"] == 2
    toshiba = next(r for r in records.values() if r["brand"] == "toshiba")
    assert toshiba["model"] == "Toshiba Portégé Z30-C-188"
    assert toshiba["price"] == 8541  # 1,095.00 EUR at 7.80
    assert toshiba["specs"]["weight_g"] == 1200


def test_laptop_whose_maker_nothing_tells_is_skipped(sample_source):
    records, log = source_records(load_laptops, sample_source(laptops=(1054,)) / LAPTOPS)
    assert records == {}
    assert log["laptops: maker unknown"] == 1


def test_storage_adds_up_every_drive():
    assert parse_storage("128GB SSD +  1TB HDD") == (1152, "SSD+HDD", "128GB SSD+1TB HDD")
    assert parse_storage("1.0TB Hybrid") == (1024, "Hybrid", "1TB Hybrid")
    assert parse_storage(float("nan")) == (None, None, "")
