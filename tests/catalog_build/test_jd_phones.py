"""jd_phones_zh.jsonl: real Chinese titles parsed, real listings merged as the committed catalog has them."""
import pytest

from catalog_build.jd_phones import load_jd_phones, parse_jd_title
from tests.catalog_build.conftest import JD, source_records


@pytest.mark.parametrize(
    "title, brand, model_en, model_zh, ram, storage",
    [
        # Honor phones sold as '华为（HUAWEI）荣耀…' are Honor's; the config is in brackets.
        ("华为（HUAWEI）荣耀V9Play手机极光蓝全网通(3GRAM+32GROM)标配版", "honor", "V9 Play", "V9 Play", 3, 32),
        # The config in 【】 before the model.
        ("努比亚(nubia)【6+64GB】Z17mini黑金色移动联通电信4G手机双卡双待", "nubia", "Z17 mini", "Z17 mini", 6, 64),
        # iPhones name storage only; the model code '(A1699)' is dropped.
        ("AppleiPhone6sPlus(A1699)32G玫瑰金色移动联通电信4G手机", "apple", "iPhone 6s Plus", "iPhone 6s Plus", None, 32),
        # One-digit RAM right after the model number: '小米6' + '6GB+64GB'.
        ("【移动专享版】小米66GB+64GB亮黑色移动联通电信4G手机双卡双待", "xiaomi", "Mi 6", "6", 6, 64),
        # Chinese series words get English names; the Chinese name keeps them.
        ("魅族魅蓝Note5全网通公开版3GB+32GB月光银移动联通电信4G手机双卡双待", "meizu", "Meilan Note 5", "魅蓝Note 5", 3, 32),
    ],
)
def test_real_titles_parse(title, brand, model_en, model_zh, ram, storage):
    listing, reason = parse_jd_title(title, "")
    assert reason == ""
    assert (listing.brand, listing.model_en, listing.model_zh, listing.ram_gb, listing.storage_gb) == (
        brand, model_en, model_zh, ram, storage)


@pytest.mark.parametrize(
    "title, reason",
    [
        ("小米（MI）米兔定位电话防丢GPS定位器车辆防盗器儿童老人微型跟踪器追踪器高精度实时位置查看", "GPS tracker, not a phone"),
        ("守护宝（上海中兴）U288+移动2G/联通2G老人手机黑色", "licensed senior-phone brand of unclear maker"),
    ],
)
def test_listings_that_are_no_phone_of_a_known_maker_are_skipped(title, reason):
    assert parse_jd_title(title, "") == (None, reason)


def test_real_listings_give_the_committed_products(sample_source, committed):
    # Lines 1, 10, 49: Meizu Meilan Note 5, Honor 8, Nubia Z17 mini. Lines 45 and 60: one Honor V9 Play
    # from two shops. Lines 47 and 166: a licensed senior phone and a GPS tracker.
    records, log = source_records(load_jd_phones, sample_source(jd=(1, 10, 45, 60, 47, 166, 49)) / JD)

    assert set(records) == {"phone-meizu-meilan-note-5", "phone-honor-8", "phone-nubia-z17-mini", "phone-honor-v9-play"}
    for product_id in ("phone-meizu-meilan-note-5", "phone-honor-8", "phone-nubia-z17-mini"):
        assert records[product_id] == committed[product_id]
    assert records["phone-honor-8"]["name"] == {"en": "Honor 8 (4GB/64GB)", "zh": "荣耀 8 (4GB/64GB)"}
    # Neither V9 Play shop is official, so the listing with more reviews is kept.
    v9 = records["phone-honor-v9-play"]
    assert (v9["price"], v9["review_count"], log["merged"]) == (999, 400, 1)
    assert log["jd: skipped (GPS tracker, not a phone)"] == log["jd: skipped (licensed senior-phone brand of unclear maker)"] == 1
