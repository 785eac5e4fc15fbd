"""smartphones_india.csv: a few real rows become exactly the committed products."""
from catalog_build.india_phones import load_india_phones
from tests.catalog_build.conftest import INDIA, source_records


def test_real_rows_give_the_committed_products(sample_source, committed):
    # Line 2: OnePlus 11 5G. Lines 7 and 70: Galaxy F23 5G in two configurations, one with the
    # configuration in its model name. Line 120: Tesla Pi Phone, a rumoured phone with a made-up price.
    records, log = source_records(load_india_phones, sample_source(india=(2, 7, 70, 120)) / INDIA)

    assert set(records) == {"phone-oneplus-11-5g", "phone-samsung-f23-5g-4gb-128gb", "phone-samsung-f23-5g-6gb-128gb"}
    for product_id, record in records.items():
        assert record == committed[product_id]
    oneplus = records["phone-oneplus-11-5g"]
    assert oneplus["price"] == 4675  # 54,999 INR at 0.085, rounded half up
    assert oneplus["rating"] == 4.45  # 89 of 100
    assert oneplus["name"] == {"en": "OnePlus 11 5G (12GB/256GB)", "zh": "一加 11 5G (12GB/256GB)"}
    f23 = records["phone-samsung-f23-5g-6gb-128gb"]
    assert f23["model"] == "Samsung Galaxy F23 5G"  # '(6GB RAM + 128GB)' left the model for the name
    assert f23["name"]["zh"] == "三星 F23 5G (6GB/128GB)"
    assert log["india: skipped Tesla Pi Phone (rumoured, never released)"] == 1


def test_id_takes_a_configuration_only_when_a_sibling_needs_it(sample_source):
    records, _ = source_records(load_india_phones, sample_source(india=(7,)) / INDIA)
    assert list(records) == ["phone-samsung-f23-5g"]
