"""Finding products by name, features, comparisons, accessories and forgetting a shopper, through the facade."""
import pytest

from recsys import Catalog, RecommendationQuery, Recommender, Settings
from recsys.facade import QueryError
from recsys.products import ProductFinder, tokens
from recsys.specs import FeatureTable

REAL = Settings.from_env()


@pytest.fixture(scope="module")
def real_finder() -> ProductFinder:
    return ProductFinder(Catalog.load(REAL.catalog_path, REAL.aliases_path))


def test_tokens_split_scripts_and_digits():
    assert tokens("iPhone15 Pro") == ("iphone", "15", "pro")
    assert tokens("小米14多少钱") == ("小", "米", "14", "多", "少", "钱")
    assert tokens("WH-1000XM5") == ("wh", "1000", "xm", "5")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("does the Pixel 8 have wireless charging?", ["phone-google-8"]),
        ("iphone15 pro 怎么样", ["phone-apple-iphone-15-pro"]),
        ("小米14和iPhone 15哪个好", ["phone-xiaomi-14", "phone-apple-iphone-15"]),
        ("Sony WH-1000XM5 vs AirPods Pro 2", ["headphones-sony-wh-1000xm5", "headphones-apple-airpods-pro-2-usb-c"]),
        ("recommend me a phone under 3000", []),
        ("推荐一款3000元以内的手机", []),
        ("I want an apple laptop", []),
    ],
)
def test_finder_on_the_real_catalog(real_finder, text, expected):
    assert [p.id for p in real_finder.find(text)] == expected


def test_redmi_names_resolve_to_xiaomi(real_finder):
    assert real_finder.find("Redmi Note 13 Pro")[0].brand == "xiaomi"


def test_resolve_a_partial_mention(real_finder):
    assert real_finder.resolve("XPS 13").model.startswith("Dell XPS 13")
    assert real_finder.resolve("mate") is None


def test_features_resolve_in_both_languages():
    table = FeatureTable.load(REAL.features_path)
    assert table.resolve("续航").id == "battery" and table.resolve("Noise Cancelling").id == "anc"
    assert [f.id for f in table.find_in_text("is it waterproof? 有NFC吗")] in (["waterproof", "nfc"], ["nfc", "waterproof"])


def test_describe_and_compare(rich_recommender):
    answer = rich_recommender.describe("phone-xiaomi-b", "nfc")
    assert answer.known and answer.values == (("has_nfc", True),)
    assert not rich_recommender.describe("phone-apple-b", "battery").known
    comparison = rich_recommender.compare(["phone-xiaomi-a", "phone-apple-a"])
    assert comparison.specs[:2] == ("ram_gb", "storage_gb")
    with pytest.raises(QueryError):
        rich_recommender.compare(["phone-xiaomi-a"])
    with pytest.raises(QueryError):
        rich_recommender.compare(["phone-xiaomi-a", "phone-nope"])
    with pytest.raises(QueryError):
        rich_recommender.describe("phone-xiaomi-a", "teleportation")


def test_accessories_follow_fits_links(rich_recommender):
    assert [p.id for p in rich_recommender.accessories("phone-apple-a")] == ["accessory-apple-charger"]
    assert rich_recommender.accessories("phone-xiaomi-a") == []
    with pytest.raises(QueryError):
        rich_recommender.accessories("phone-nope")


def test_exclude_brands(rich_recommender):
    results = rich_recommender.recommend(RecommendationQuery(category="phone", exclude_brands=("xiaomi",)))
    assert results and {r.product.brand for r in results} == {"apple"}
    with pytest.raises(QueryError):
        rich_recommender.recommend(RecommendationQuery(category="phone", exclude_brands=("nokia",)))


def test_forget_erases_database_rows_and_history(rich_recommender):
    assert rich_recommender.shopper_data("apple-fan-1")
    deleted = rich_recommender.forget("apple-fan-1")
    assert deleted > 0
    assert rich_recommender.shopper_data("apple-fan-1") == []
    assert rich_recommender.history("apple-fan-1").nnz == 0
    assert rich_recommender.store.events_frame("apple-fan-1").empty
    assert rich_recommender.forget("apple-fan-1") == 0
    # Reloading the models (after a retrain elsewhere, or a restart) must not bring their trained row back.
    assert rich_recommender.reload_models()
    shoppers = rich_recommender.shoppers
    assert shoppers.model_row(shoppers.get("apple-fan-1")) is None
    assert shoppers.model_row(shoppers.get("apple-fan-2")) is not None  # an unchanged shopper keeps theirs
    reopened = Recommender.from_settings(rich_recommender.settings, train_if_missing=False)
    assert reopened.shoppers.model_row(reopened.shoppers.get("apple-fan-1")) is None
    recs = reopened.recommend(RecommendationQuery(user_id="apple-fan-1", k=3))
    assert {r.reason.code for r in recs} <= {"popular"}  # a new shopper again


def test_prefer_a_feature(rich_recommender):
    results = rich_recommender.recommend(RecommendationQuery(category="phone", prefer="battery", k=3))
    assert results[0].product.id == "phone-xiaomi-b"
    assert results[0].reason.code == "strong_feature" and results[0].reason.params["spec"] == "battery_mah"
    with pytest.raises(QueryError):
        rich_recommender.recommend(RecommendationQuery(category="phone", prefer="teleportation"))


def test_category_words_are_not_features(rich_recommender):
    assert rich_recommender.find_features("recommend me a camera") == []
    assert [f.id for f in rich_recommender.find_features("phone with great photos and 续航")] in (["camera", "battery"], ["battery", "camera"])


@pytest.mark.parametrize("name, tier", [("Nvidia GeForce GTX 1080", 6.0), ("Nvidia GeForce GTX1050 Ti", 3.5), ("GeForce RTX 4060", 8.0),
                                        ("AMD Radeon RX 560", 3.5), ("Nvidia GeForce MX150", 1.5), ("Intel HD Graphics 620", 0.0),
                                        ("Apple M2", None), ("", None)])
def test_graphics_tiers(name, tier):
    from recsys.graphics import graphics_tier

    assert graphics_tier(name) == tier


def test_gaming_laptops_are_judged_on_the_gpu_not_the_ram():
    """On the real catalog: among laptops, a GTX 1070 machine beats an integrated-graphics one with more RAM."""
    from recsys.specs import feature_strength

    catalog = Catalog.load(REAL.catalog_path, REAL.aliases_path)
    laptops = [p for p in catalog.products if p.category == "laptop"]
    fast = next(p for p in laptops if "1070" in str(p.specs.get("gpu")))
    slow = max((p for p in laptops if "Intel" in str(p.specs.get("gpu"))), key=lambda p: p.specs.get("ram_gb") or 0)
    assert slow.specs["ram_gb"] >= fast.specs["ram_gb"]
    gaming = FeatureTable.load(REAL.features_path).features["gaming"]
    spec, strength = feature_strength([slow, fast], gaming)
    assert spec == "gpu" and strength[1] > strength[0]
