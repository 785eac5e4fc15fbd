"""data/catalog/taxonomy.yml: the one list of categories and brands, checked as it is loaded."""
import copy

import pytest
import yaml

from recsys.catalog import CATEGORIES
from recsys.taxonomy import TAXONOMY_PATH, Taxonomy, TaxonomyError, load_taxonomy

RAW = yaml.safe_load(TAXONOMY_PATH.read_text(encoding="utf-8"))


def test_categories_come_from_the_taxonomy_in_its_order():
    assert CATEGORIES == tuple(RAW["categories"]) == load_taxonomy().category_ids
    assert "phone" in CATEGORIES and "accessory" in CATEGORIES


def test_alias_table_adds_the_names_and_lowercases_latin_aliases():
    table = load_taxonomy().alias_table()
    assert table["categories"]["tv"] == {
        "en": "TV", "zh": "电视", "aliases": ["tv", "电视", "tvs", "television", "televisions", "smart tv", "电视机", "智能电视"]}
    assert table["brands"]["honor"] == {"en": "Honor", "zh": "荣耀", "aliases": ["honor", "荣耀", "honour"],
                                        "ambiguous": ["honor", "honour"]}
    assert "ambiguous" not in table["brands"]["apple"]


def test_sub_brands_are_filed_under_their_parent():
    taxonomy = load_taxonomy()
    assert taxonomy.canonical_brand("redmi") == "xiaomi"
    assert taxonomy.sub_brands["redmi"].name == {"en": "Redmi", "zh": "红米"}
    assert taxonomy.canonical_brand("letv") == "leeco"
    assert taxonomy.canonical_brand("samsung") == "samsung"


def broken(change):
    raw = copy.deepcopy(RAW)
    change(raw)
    return raw


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda raw: raw["categories"]["phone"].pop("plural"), "taxonomy: categories.phone: plural: field required"),
        (lambda raw: raw["categories"]["tv"].update(zh=" "), "taxonomy: categories.tv: zh: ensure this value has at least 1 characters"),
        (lambda raw: raw["brands"]["apple"].update(aliases=["x"]), "taxonomy: brands.apple: aliases.0: ensure this value has at least 2 characters"),
        (lambda raw: raw["brands"]["apple"].update(markets=["cn"]), "taxonomy: brands.apple: markets: extra fields not permitted"),
        (lambda raw: raw["brands"]["apple"].update(ambiguous=["pear"]), "taxonomy: brands.apple: ambiguous pear not among its names and aliases"),
        (lambda raw: raw["brands"]["samsung"].update(aliases=["iphone"]), "taxonomy: brands: 'iphone' names both apple and samsung"),
        (lambda raw: raw["brands"].update({"Acme": {"en": "Acme", "zh": "Acme"}}), "taxonomy: brands: ids must be lowercase letters and digits, not Acme"),
        (lambda raw: raw["sub_brands"]["redmi"].update(parent="mi"), "taxonomy: sub_brands.redmi: parent 'mi' is not a brand"),
        (lambda raw: raw.update(colours={}), "taxonomy: unknown section(s) colours"),
        (lambda raw: raw.pop("brands"), "taxonomy: brands must be a non-empty mapping of id to entry"),
    ],
)
def test_a_slip_in_the_file_is_named(change, message):
    with pytest.raises(TaxonomyError) as error:
        Taxonomy.from_mapping(broken(change))
    assert message in str(error.value)


def test_unreadable_file_names_the_path(tmp_path):
    path = tmp_path / "taxonomy.yml"
    path.write_text("categories: [unclosed\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="taxonomy.yml: cannot read the taxonomy"):
        Taxonomy.load(path)
