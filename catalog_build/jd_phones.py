"""``jd_phones_zh.jsonl`` (CNY): JD.com phone listings, known only by their Chinese titles.

Titles are parsed for brand, model, RAM and storage ('华为 P10 Plus 6GB+128GB 全网通 钻雕金');
listings that do not parse cleanly are skipped (and counted), and a phone several shops sell is
kept once, preferring the official shop's listing.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from catalog_build.common import (
    CJK, BuildError, base_fields, brand_names, localized_points, missing, numbered, ordered_specs, slugify, to_cny,
)
from catalog_build.drafts import Draft, parse_rows
from catalog_build.phones import PHONE_SPEC_KEYS, config_qualifier, phone_config_label, phone_description, phone_name

FILE_NAME = "jd_phones_zh.jsonl"

# Listings that are not phones, or whose maker is unclear (守护宝 is a licensee of "上海中兴", not ZTE).
JD_SKIP = {"米兔定位": "GPS tracker, not a phone", "守护宝": "licensed senior-phone brand of unclear maker"}
# Brand words as they appear in titles; the first one found names the brand, except that Honor
# phones are often titled "华为（HUAWEI）荣耀…" and are Honor's.
JD_BRAND_WORDS: Tuple[Tuple[str, str], ...] = (
    ("荣耀", "honor"), ("小米", "xiaomi"), ("红米", "xiaomi"), ("华为", "huawei"), ("HUAWEI", "huawei"),
    ("魅族", "meizu"), ("魅蓝", "meizu"), ("Apple", "apple"), ("苹果", "apple"), ("iPhone", "apple"),
    ("vivo", "vivo"), ("OPPO", "oppo"), ("三星", "samsung"), ("努比亚", "nubia"), ("nubia", "nubia"),
    ("中兴", "zte"), ("ZTE", "zte"), ("锤子", "smartisan"), ("乐视", "leeco"), ("LeEco", "leeco"),
    ("酷派", "coolpad"), ("飞利浦", "philips"), ("诺基亚", "nokia"), ("Nokia", "nokia"), ("一加", "oneplus"),
    ("360手机", "qihoo360"),
)
_JD_LEADING_BRAND = re.compile(
    r"^(?:华为|HUAWEI|荣耀|小米|魅族|Apple|苹果|vivo|OPPO|三星|努比亚|nubia|中兴|ZTE|锤子|乐视|LeEco|Letv|"
    r"酷派|Coolpad|飞利浦|Philips|诺基亚|Nokia|一加手机|一加|360手机)+",
    re.IGNORECASE,
)
# '(HUAWEI)', '(MI)', '()' after a brand, and model codes such as '(SM-G9500)', '(A1660)', '(Nokia6)'.
_JD_BRAND_PAREN = re.compile(r"\((?:HUAWEI|MI|MEIZU|Letv|LeEco|nubia|Coolpad|NOKIA|Apple)?\)", re.IGNORECASE)
_JD_MODEL_CODE = re.compile(r"\([A-Z][A-Za-z0-9-]*\d[A-Za-z0-9-]*\)")
# RAM is one digit in these 2017 listings, which separates it from a model number in front: '小米66GB+64GB'.
_JD_CONFIGS = (
    re.compile(r"(?P<ram>\d)\s*(?:GB|G)?\s*(?:RAM)?\s*\+\s*(?P<storage>\d{2,3})\s*(?:GB|G)?(?:\s*ROM)?", re.IGNORECASE),
    re.compile(r"(?P<ram>\d)\s*GB?\s*内存\s*(?P<storage>\d{2,3})\s*GB?", re.IGNORECASE),
    re.compile(r"(?P<ram>\d)GB(?P<storage>\d{2,3})GB"),
)
_JD_STORAGE_ONLY = re.compile(r"(?P<storage>128|256|16|32|64)\s*G(?:B)?(?!\s*手机)")
_JD_BRACKET = re.compile(r"【([^】]*)】")
_JD_STOPS = re.compile(
    r"全网通|手机|移动|联通|电信|公开|标配|标准|高配|顶配|尊享|双卡|智能|内存|特别|老人|\(|,|"
    r"陶瓷|(?:黑金|银灰|浅蓝|[黑白金银灰蓝红粉紫绿])色|(?:月光|皓月|冰河|珠光|雪域)[银白]|(?:幻夜|石墨|耀动|曜石|谜夜|磨砂|亮|碳|钛岩|墨玉|星空|玄金|雪夜)黑|"
    r"(?:钻雕|魅海|活力|极光|幻海)蓝|(?:玫瑰|香槟|铂光|琥珀|华尔|流光|原力|枫叶|哑光|咖啡)金|(?:深空|银钻|星空|月岩)灰|樱语粉"
)
# Chinese series and edition words with their English names; '' drops a marketing word.
JD_MODEL_WORDS: Tuple[Tuple[str, str], ...] = (
    ("红米", "Redmi "), ("魅蓝", "Meilan "), ("畅玩", "Play "), ("畅享", "Enjoy "), ("麦芒", "Maimang "),
    ("坚果", "Nut "), ("酷玩", "Cool Play "), ("天机", " "), ("青春版", " Lite"), ("爵迹版", " Jueji Edition"),
    ("双摄AI版", " Dual Camera AI Edition"), ("精英版", " Elite Edition"), ("全面屏", ""), ("无边框", ""),
)
_JD_WORD_CASE = {"plus": "Plus", "play": "Play", "pro": "Pro", "note": "Note", "max": "Max", "mix": "MIX",
                 "axon": "Axon", "magic": "Magic"}


@dataclass
class JdListing:
    """What a JD title says once parsed; ``model_zh`` keeps the Chinese series words."""

    brand: str
    model_en: str
    model_zh: str
    ram_gb: Optional[int]
    storage_gb: Optional[int]
    feature_phone: bool


def jd_brand(title: str, shop: str) -> Optional[str]:
    """Brand named earliest in the title (Honor first), else the one in the shop name."""
    if "荣耀" in title:
        return "honor"
    for text in (title, shop):
        hits = [(text.find(word), brand) for word, brand in JD_BRAND_WORDS if word in text]
        if hits:
            return min(hits)[1]
    return None


def jd_config(title: str) -> Tuple[Optional[int], Optional[int], int]:
    """(RAM, storage, where the config starts) from a title; storage alone for iPhones."""
    for pattern in _JD_CONFIGS:
        match = pattern.search(title)
        if match:
            return int(match["ram"]), int(match["storage"]), match.start()
    matches = list(_JD_STORAGE_ONLY.finditer(title))
    if matches:
        return None, int(matches[-1]["storage"]), matches[-1].start()
    return None, None, len(title)


def space_model(model: str) -> str:
    """'GalaxyNote8' -> 'Galaxy Note 8', 'iPhone6sPlus' -> 'iPhone 6s Plus', 'nova2plus' -> 'nova 2 Plus'."""
    text = model.replace("iPhone", "\0")
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    text = re.sub(r"(?<=\d)(?=[A-Za-z]{3,})", " ", text)
    text = re.sub(r"(?<=[A-Za-z\0]{3})(?=\d)|(?<=\0)(?=\d)", " ", text)
    text = text.replace("\0", "iPhone")
    text = re.sub(r"(?<=\d)x\b", "X", text)  # 'Redmi 4x' and 'Redmi 4X' are one phone
    words = [_JD_WORD_CASE.get(w.lower(), w) for w in text.split()]
    return " ".join(words)


def jd_model_names(brand: str, model_zh: str) -> Tuple[str, str]:
    """English and Chinese model names; the English one has no Chinese left if parsing worked."""
    english = re.sub(r"^乐", "Le ", model_zh) if brand == "leeco" else model_zh  # 乐Pro3 is the Le Pro 3
    for word, replacement in JD_MODEL_WORDS:
        english = english.replace(word, replacement)
        if not replacement:  # marketing words ('全面屏') are not part of the model in either language
            model_zh = model_zh.replace(word, "")
    english = space_model(" ".join(english.split()))
    if brand == "xiaomi" and re.match(r"(?:\d|Note|MIX|Max)", english):
        english = f"Mi {english}"
    if brand == "leeco" and not english.startswith("Le "):
        english = f"Le {english}"
    return english, space_model(model_zh)


def parse_jd_title(title: str, shop: str) -> Tuple[Optional[JdListing], str]:
    """Parse one JD title, or say why it was skipped."""
    for word, reason in JD_SKIP.items():
        if word in title:
            return None, reason
    text = unicodedata.normalize("NFKC", title)
    ram = storage = None
    for block in _JD_BRACKET.findall(text):  # '【6+64GB】Z17mini' puts the config before the model
        block_ram, block_storage, _ = jd_config(block)
        if block_storage:
            ram, storage = block_ram, block_storage
    text = _JD_BRACKET.sub("", text)
    text = _JD_MODEL_CODE.sub("", _JD_BRAND_PAREN.sub("", text))
    brand = jd_brand(text, shop)
    if brand is None:
        return None, "no known brand"
    text = _JD_LEADING_BRAND.sub("", text)
    # Resellers repeat the model around a series word: '4A红米4A' is Redmi 4A, '6畅玩6' is Play 6.
    text = re.sub(r"^([0-9A-Za-z]{1,3}?)(?:Apple)?(红米|魅蓝|畅玩|iPhone)\1", r"\2\1", text, flags=re.IGNORECASE)
    cut = len(text)
    if storage is None:
        ram, storage, cut = jd_config(text)
    stop = _JD_STOPS.search(text)
    model = text[: min(cut, stop.start() if stop else len(text))]
    model = re.sub(r"4G$", "", model.strip()).strip()  # 'Mate94G手机': the 4G is the network
    if not model:
        return None, "no model in title"
    model_en, model_zh = jd_model_names(brand, model)
    if CJK.search(model_en) or not re.search(r"[A-Za-z0-9]", model_en):
        return None, "Chinese model name not understood"
    feature_phone = "2G" in text and ram is None and storage is None
    if ram is None and storage is None and not feature_phone:
        return None, "no RAM/storage in title"
    return JdListing(brand, model_en, model_zh, ram, storage, feature_phone), ""


def jd_points(listing: JdListing, title: str) -> Dict[str, List[str]]:
    """Selling points a JD title states outright."""
    points: List[Tuple[str, str]] = []
    if listing.feature_phone:
        points.append(("Feature phone", "功能机"))
    if "老人" in title:
        points.append(("For seniors", "老人机"))
    if "全网通" in title:
        points.append(("All-network 4G", "全网通"))
    if "双卡双待" in title:
        points.append(("Dual SIM", "双卡双待"))
    if (listing.ram_gb or 0) >= 6:
        points.append((f"{listing.ram_gb} GB RAM", f"{listing.ram_gb}GB 大内存"))
    return localized_points(points)


def jd_draft(row: Mapping[str, Any], log: Counter) -> Optional[Draft]:
    """Draft of one JD listing; the official shop's listing is preferred when a phone repeats."""
    price = float(row.get("p_price") or 0)
    if price <= 0:
        log["jd: no price"] += 1
        return None
    title, shop = str(row.get("p_name") or ""), str(row.get("p_shop") or "")
    listing, reason = parse_jd_title(title, shop)
    if listing is None:
        log[f"jd: skipped ({reason})"] += 1
        return None
    specs: Dict[str, Any] = {"ram_gb": listing.ram_gb, "storage_gb": listing.storage_gb}
    if re.search(r"(?<![\d+])[24]G(?![B\d])", title):
        specs["has_5g"] = False  # a 2017 listing that names its network as 2G or 4G
    specs = ordered_specs(specs, PHONE_SPEC_KEYS)
    brand_en, brand_zh = brand_names(listing.brand)
    model = f"{brand_en} {listing.model_en}"
    config = phone_config_label(listing.ram_gb, listing.storage_gb)
    description = phone_description(specs)
    if listing.feature_phone:
        description = {"en": "2G feature phone for calls and texts.", "zh": "2G 功能机，适合通话和短信。"}
    comments = None if missing(row.get("p_comment_num")) else int(float(row["p_comment_num"]))
    rating = None if missing(row.get("p_good_rate")) else round(float(row["p_good_rate"]) / 20, 2)
    fields = base_fields(
        "phone", listing.brand, model, to_cny(price, Decimal(1)), FILE_NAME, rating=rating, review_count=comments,
        specs=specs, description=description, selling_points=jd_points(listing, title),
    )
    official = "官方" in shop or "自营" in shop or shop.startswith("京东")
    preference = (not official, -(comments or 0), fields["price"], str(row.get("p_id")))
    slug = slugify(listing.model_en)
    return Draft(
        base_id=f"phone-{listing.brand}-{slug}" if slug else f"phone-{listing.brand}-jd-{row.get('p_id')}",
        qualifiers=(config_qualifier(listing.ram_gb, listing.storage_gb),), fields=fields,
        name_en=phone_name(model, config), name_zh=phone_name(f"{brand_zh} {listing.model_zh}", config),
        preference=preference,
    )


def drop_unconfigured_duplicates(drafts: List[Draft], log: Counter) -> List[Draft]:
    """A listing without RAM/storage is ambiguous when the same model is also listed with them."""
    configured = {d.base_id for d in drafts if d.qualifiers[0].id_part}
    kept = [d for d in drafts if d.qualifiers[0].id_part or d.base_id not in configured]
    if len(kept) < len(drafts):
        log["jd: skipped (no RAM/storage, model also listed with them)"] += len(drafts) - len(kept)
    return kept


def read_listings(path: Path) -> List[Tuple[str, Dict[str, Any]]]:
    """``(origin, listing)`` for each non-blank line; a line that is no JSON object stops the build."""
    listings = []
    for origin, line in numbered(path.name, path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        try:
            listing = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BuildError(f"{origin}: not valid JSON: {exc.msg}") from exc
        if not isinstance(listing, dict):
            raise BuildError(f"{origin}: expected a JSON object, got {type(listing).__name__}")
        listings.append((origin, listing))
    return listings


def load_jd_phones(path: Path, log: Counter) -> List[Draft]:
    """All JD listings that parse cleanly; duplicates of one phone are merged by id later."""
    seen: set = set()
    unique_rows = []
    for origin, row in read_listings(path):
        if row.get("p_id") in seen:
            log["jd: duplicate listing id"] += 1
            continue
        seen.add(row.get("p_id"))
        unique_rows.append((origin, row))
    return drop_unconfigured_duplicates(parse_rows(unique_rows, partial(jd_draft, log=log)), log)
