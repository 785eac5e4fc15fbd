"""Entities from the catalog: aliases with their places, products by name, and what a product implies."""
from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from daogou_nlu.catalog_entities import EXTRACTOR, CatalogEntityExtractor, CatalogReader
from recsys import Catalog
from tests.conftest import ALIASES, make_product, write_catalog

PRODUCTS = [
    make_product("phone-xiaomi-redmi-note-13", "phone", "xiaomi", 1299),
    make_product("phone-apple-iphone-15", "phone", "apple", 5999),
    make_product("phone-apple-iphone-15-pro", "phone", "apple", 7999),
    make_product("phone-apple-iphone-14", "phone", "apple", 4999),
    make_product("laptop-lenovo-thinkpad-x1", "laptop", "lenovo", 9999),
    make_product("laptop-lenovo-thinkpad-t14", "laptop", "lenovo", 6999),
    make_product("laptop-lenovo-thinkpad-e14", "laptop", "lenovo", 4999),
    make_product("accessory-apple-charger-20w", "accessory", "apple", 149),
    make_product("accessory-apple-iphone-case", "accessory", "apple", 99),
    make_product("accessory-apple-iphone-cable", "accessory", "apple", 99),
]
ALIASES_WITH_AN_EVERYDAY_WORD = {
    **ALIASES,
    "brands": {**ALIASES["brands"], "nothing": {"en": "Nothing", "zh": "Nothing", "aliases": ["nothing"],
                                                "ambiguous": ["nothing"]}},
}


@pytest.fixture(scope="module")
def reader(tmp_path_factory) -> CatalogReader:
    products, aliases = write_catalog(Path(tmp_path_factory.mktemp("catalog")), PRODUCTS, ALIASES_WITH_AN_EVERYDAY_WORD)
    return CatalogReader(Catalog.load(products, aliases))


def _entities(reader: CatalogReader, text: str, learned=()) -> list:
    message = Message(data={TEXT: text, ENTITIES: list(learned)})
    CatalogEntityExtractor(reader).process([message])
    return message.get(ENTITIES)


def _values(entities, kind):
    return [e["value"] for e in entities if e["entity"] == kind]


def test_aliases_are_found_with_their_places_and_canonical_ids(reader):
    text = "想买小米 smartphones 和 Apple laptop"
    entities = _entities(reader, text)
    assert sorted(_values(entities, "brand")) == ["apple", "xiaomi"]
    assert sorted(_values(entities, "category")) == ["laptop", "phone"]
    for entity in entities:
        assert entity["extractor"] == EXTRACTOR
        assert text[entity["start"]:entity["end"]].lower() in {"小米", "smartphones", "apple", "laptop"}


def test_latin_aliases_match_whole_words_only_and_everyday_words_never(reader):
    assert _values(_entities(reader, "a mini phone"), "brand") == []  # "mi" is not in "mini"
    assert _values(_entities(reader, "nothing else, thanks"), "brand") == []


def test_a_bare_product_name_gives_the_product_its_brand_and_its_category(reader):
    entities = _entities(reader, "iphone 15 pro 256g")
    assert _values(entities, "product") == ["Apple Iphone 15 Pro"]
    assert _values(entities, "category") == ["phone"]
    implied = [e for e in entities if e["entity"] == "category"][0]
    assert implied["implied_by"] == "phone-apple-iphone-15-pro"
    assert _values(entities, "brand") == ["apple"]  # "iphone" is an alias of apple


def test_a_named_category_wins_over_what_the_product_implies(reader):
    entities = _entities(reader, "a charger for my redmi note 13")
    assert _values(entities, "category") == ["accessory"]
    assert _values(entities, "product") == ["Xiaomi Redmi Note 13"]


def test_a_product_line_word_implies_its_category(reader):
    entities = _entities(reader, "联想thinkpad有货吗")
    assert _values(entities, "brand") == ["lenovo"]
    assert _values(entities, "category") == ["laptop"]
    assert [e["implied_by"] for e in entities if e["entity"] == "category"] == ["thinkpad"]


def test_the_catalog_replaces_a_learned_tag_at_the_same_place_and_keeps_the_others(reader):
    learned = [{"entity": "category", "value": "smart phone", "start": 5, "end": 10, "extractor": "CRFEntityExtractor"},
               {"entity": "feature", "value": "battery", "start": 20, "end": 27, "extractor": "CRFEntityExtractor"}]
    entities = _entities(reader, "best phone with big battery", learned)
    assert _values(entities, "category") == ["phone"]
    assert _values(entities, "feature") == ["battery"]


def test_the_component_reads_the_catalog_the_recommender_is_configured_with(monkeypatch, tmp_path):
    products, aliases = write_catalog(tmp_path, PRODUCTS)
    monkeypatch.setenv("DAOGOU_CATALOG", str(products))
    monkeypatch.setenv("DAOGOU_ALIASES", str(aliases))
    component = CatalogEntityExtractor.create({}, None, None, ExecutionContext(GraphSchema({}), node_name="catalog"))
    message = Message(data={TEXT: "thinkpad x1"})
    component.process([message])
    assert _values(message.get(ENTITIES), "product") == ["Lenovo Thinkpad X1"]


def test_a_line_word_takes_the_kind_of_the_devices_not_of_the_accessories_that_fit_them(reader):
    entities = _entities(reader, "想买个iphone")
    assert _values(entities, "category") == ["phone"]
    assert [e["implied_by"] for e in entities if e["entity"] == "category"] == ["iphone"]


def test_spec_words_imply_nothing(reader):
    assert _entities(reader, "which one has the better screen") == []


def test_a_learned_product_tag_on_a_brand_word_gives_way_to_the_brand(reader):
    learned = [{"entity": "product", "value": "apple", "start": 10, "end": 16, "extractor": "CRFEntityExtractor"}]
    entities = _entities(reader, "i want an iphone", learned)
    assert _values(entities, "product") == []
    assert _values(entities, "brand") == ["apple"]
