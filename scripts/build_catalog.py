"""Build Daogou's product catalog from the real listings in ``../shared/datasets/catalogs``.

Writes two files that every other part of the project reads:

- ``data/catalog/products.jsonl``: one product per line, sorted by id, prices in CNY;
- ``data/catalog/aliases.yml``: the single table of category and brand names (English
  and Chinese) that NLU lookup tables and the recommender's filters both use.

Sources used (see ``../shared/datasets/README.md``):

- ``smartphones_india.csv`` (INR): phones with full specs;
- ``laptops_europe.csv`` (EUR): laptops; one product name often covers several
  configurations, so names always carry the configuration;
- ``jd_phones_zh.jsonl`` (CNY): JD.com phone listings whose Chinese titles are parsed
  for brand, model, RAM and storage; listings that do not parse cleanly are skipped
  and the same phone sold by several shops is kept once.

Ids are ``category-brand-model``; when several products of one source share that
base, the configuration (and, if still needed, finer details) is appended to all of
them, so an id never depends on row order. Products no detail tells apart are merged
(the cheapest laptop row; for JD, the official shop's listing). A later source never
renames an earlier source's products: its own ids get their configuration appended instead.

The script is deterministic: the same sources give byte-identical files.
Run ``python scripts/build_catalog.py`` (or ``make catalog``); ``--source`` and
``--out-dir`` override where it reads and writes.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import pandas as pd
import yaml

# Fixed conversion rates to CNY; catalog prices must not move when a script is re-run.
INR_TO_CNY = Decimal("0.085")
EUR_TO_CNY = Decimal("7.80")
USD_TO_CNY = Decimal("7.20")  # for amazon_phones_us.csv once it is used

STOCK_MODULO = 60  # pseudo-stock is md5(id) % 60, so about 1 in 60 products is out of stock

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = PROJECT_ROOT / ".." / "shared" / "datasets" / "catalogs"
DEFAULT_OUT_DIR = PROJECT_ROOT / "data" / "catalog"
#: Hand-curated real products of the categories no shared listing covers (committed YAML, one file each).
DEFAULT_CURATED_DIR = PROJECT_ROOT / "data" / "catalog" / "curated"

PHONES_INDIA = "smartphones_india.csv"
LAPTOPS_EUROPE = "laptops_europe.csv"
JD_PHONES = "jd_phones_zh.jsonl"

RECORD_KEYS = (
    "id", "category", "brand", "model", "name", "price", "list_price", "currency", "stock", "rating",
    "review_count", "release_year", "specs", "description", "selling_points", "fits", "source",
)
PHONE_SPEC_KEYS = (
    "ram_gb", "storage_gb", "screen_in", "refresh_hz", "battery_mah", "fast_charging_w", "has_5g", "has_nfc",
    "chipset", "cores", "rear_camera_mp", "front_camera_mp", "num_rear_cameras", "os", "resolution",
)
LAPTOP_SPEC_KEYS = (
    "ram_gb", "storage_gb", "storage_type", "screen_in", "resolution", "touchscreen", "cpu", "gpu", "os",
    "weight_g", "type",
)
MAX_SELLING_POINTS = 4

# ---------------------------------------------------------------------------------------------
# Alias table. Latin aliases are lowercase; the English name (lowercased) and the Chinese name are
# added to each alias list automatically. No single letters: they would match inside sentences.
# ---------------------------------------------------------------------------------------------
CATEGORY_TABLE: Dict[str, Tuple[str, str, Tuple[str, ...]]] = {
    "phone": ("Phone", "手机", (
        "phone", "phones", "smartphone", "smartphones", "mobile", "mobile phone", "cellphone", "cell phone",
        "手机", "智能手机", "电话", "移动电话")),
    "laptop": ("Laptop", "笔记本电脑", (
        "laptop", "laptops", "notebook", "notebooks", "ultrabook", "notebook computer", "gaming laptop",
        "笔记本", "笔记本电脑", "电脑", "手提电脑", "轻薄本", "游戏本")),
    "tablet": ("Tablet", "平板电脑", (
        "tablet", "tablets", "tablet computer", "ipad", "android tablet", "平板", "平板电脑")),
    "headphones": ("Headphones", "耳机", (
        "headphones", "headphone", "headset", "earphones", "earphone", "earbuds", "earbud", "wireless earbuds",
        "bluetooth headphones", "noise cancelling headphones", "tws", "耳机", "蓝牙耳机", "无线耳机",
        "头戴式耳机", "降噪耳机", "耳麦")),
    "smartwatch": ("Smartwatch", "智能手表", (
        "smartwatch", "smartwatches", "smart watch", "fitness tracker", "fitness band", "smart band",
        "手表", "智能手表", "手环", "智能手环", "运动手表")),
    "camera": ("Camera", "相机", (
        "camera", "cameras", "digital camera", "mirrorless camera", "dslr", "action camera",
        "相机", "照相机", "数码相机", "单反", "单反相机", "微单", "运动相机")),
    "monitor": ("Monitor", "显示器", (
        "monitor", "monitors", "computer monitor", "gaming monitor", "显示器", "电脑显示器", "电竞显示器")),
    "tv": ("TV", "电视", (
        "tv", "tvs", "television", "televisions", "smart tv", "电视", "电视机", "智能电视")),
    "speaker": ("Speaker", "音箱", (
        "speaker", "speakers", "bluetooth speaker", "smart speaker", "soundbar", "音箱", "音响", "蓝牙音箱",
        "智能音箱")),
    "accessory": ("Accessory", "配件", (
        "accessory", "accessories", "case", "phone case", "charger", "cable", "charging cable", "power bank",
        "screen protector", "memory card", "usb drive", "配件", "充电器", "手机壳", "保护壳", "充电宝",
        "移动电源", "数据线", "充电线", "钢化膜", "存储卡", "内存卡", "u盘")),
}

BRAND_TABLE: Dict[str, Tuple[str, str, Tuple[str, ...]]] = {
    # phones and laptops in the catalog
    "apple": ("Apple", "苹果", ("iphone", "macbook")),
    "samsung": ("Samsung", "三星", ("samsung galaxy",)),
    "huawei": ("Huawei", "华为", ()),
    "honor": ("Honor", "荣耀", ("honour",)),
    "xiaomi": ("Xiaomi", "小米", ("mi", "redmi", "红米")),
    "poco": ("Poco", "POCO", ()),
    "oneplus": ("OnePlus", "一加", ("one plus",)),
    "oppo": ("OPPO", "OPPO", ()),
    "vivo": ("Vivo", "vivo", ()),
    "iqoo": ("iQOO", "iQOO", ()),
    "realme": ("Realme", "真我", ()),
    "motorola": ("Motorola", "摩托罗拉", ("moto", "摩托")),
    "google": ("Google", "谷歌", ("google pixel", "pixel")),
    "nokia": ("Nokia", "诺基亚", ()),
    "sony": ("Sony", "索尼", ("xperia",)),
    "asus": ("Asus", "华硕", ("rog", "玩家国度")),
    "lenovo": ("Lenovo", "联想", ("thinkpad",)),
    "lg": ("LG", "LG", ()),
    "meizu": ("Meizu", "魅族", ("魅蓝",)),
    "nubia": ("Nubia", "努比亚", ()),
    "zte": ("ZTE", "中兴", ()),
    "nothing": ("Nothing", "Nothing", ("nothing phone",)),
    "tecno": ("Tecno", "Tecno", ()),
    "infinix": ("Infinix", "Infinix", ()),
    "itel": ("itel", "itel", ()),
    "lava": ("Lava", "Lava", ()),
    "jio": ("Jio", "Jio", ("jiophone",)),
    "lyf": ("LYF", "LYF", ()),
    "micromax": ("Micromax", "Micromax", ()),
    "gionee": ("Gionee", "金立", ()),
    "leeco": ("LeEco", "乐视", ("letv",)),
    "oukitel": ("Oukitel", "Oukitel", ()),
    "doogee": ("Doogee", "Doogee", ()),
    "blackview": ("Blackview", "Blackview", ()),
    "royole": ("Royole", "柔宇", ()),
    "ikall": ("iKall", "iKall", ()),
    "sharp": ("Sharp", "夏普", ()),
    "tcl": ("TCL", "TCL", ()),
    "cat": ("Cat", "Cat", ("cat phone",)),
    "leitz": ("Leitz", "Leitz", ()),
    "duoqin": ("Duoqin", "多亲", ()),
    "blu": ("BLU", "BLU", ()),
    "vertu": ("Vertu", "纬图", ()),
    "cola": ("Cola", "Cola", ("cola phone",)),
    "smartisan": ("Smartisan", "锤子", ("锤子科技",)),
    "coolpad": ("Coolpad", "酷派", ()),
    "philips": ("Philips", "飞利浦", ()),
    "qihoo360": ("360 Mobile", "360手机", ("qihoo 360", "奇虎360")),
    "dell": ("Dell", "戴尔", ("alienware", "外星人")),
    "hp": ("HP", "惠普", ("hewlett-packard",)),
    "acer": ("Acer", "宏碁", ("宏基",)),
    "msi": ("MSI", "微星", ()),
    "microsoft": ("Microsoft", "微软", ("surface",)),
    "razer": ("Razer", "雷蛇", ()),
    "toshiba": ("Toshiba", "东芝", ()),
    "fujitsu": ("Fujitsu", "富士通", ()),
    "mediacom": ("Mediacom", "Mediacom", ()),
    "vero": ("Vero", "Vero", ()),
    "chuwi": ("Chuwi", "驰为", ()),
    # other digital brands, for the categories still to come
    "bose": ("Bose", "Bose", ()),
    "sennheiser": ("Sennheiser", "森海塞尔", ()),
    "jbl": ("JBL", "JBL", ()),
    "anker": ("Anker", "安克", ()),
    "ugreen": ("Ugreen", "绿联", ()),
    "canon": ("Canon", "佳能", ()),
    "nikon": ("Nikon", "尼康", ()),
    "fujifilm": ("Fujifilm", "富士", ()),
    "dji": ("DJI", "大疆", ()),
    "garmin": ("Garmin", "佳明", ()),
    "amazfit": ("Amazfit", "华米", ("跃我",)),
    "logitech": ("Logitech", "罗技", ()),
    "belkin": ("Belkin", "贝尔金", ()),
    "hisense": ("Hisense", "海信", ()),
    "sandisk": ("SanDisk", "闪迪", ()),
    "kingston": ("Kingston", "金士顿", ()),
    "baseus": ("Baseus", "倍思", ()),
    "sonos": ("Sonos", "Sonos", ()),
    "marshall": ("Marshall", "Marshall", ("马歇尔",)),
    "beats": ("Beats", "Beats", ()),
    "aoc": ("AOC", "AOC", ("冠捷",)),
    "benq": ("BenQ", "明基", ()),
    "esr": ("ESR", "亿色", ()),
    "gopro": ("GoPro", "GoPro", ()),
    "insta360": ("Insta360", "影石", ("影石insta360",)),
    "paperlike": ("Paperlike", "Paperlike", ()),
    "pitaka": ("PITAKA", "PITAKA", ()),
    "shokz": ("Shokz", "韶音", ("aftershokz",)),
    "spigen": ("Spigen", "Spigen", ()),
    "edifier": ("Edifier", "漫步者", ()),
}

# Source brand spellings that name a brand we already have.
# Brand aliases that are everyday English words ("a phone, nothing fancy"): the recommender's
# free-text fallback skips them, so only the NLU model, which sees context, can pick them up.
AMBIGUOUS_ALIASES: Dict[str, Tuple[str, ...]] = {
    "nothing": ("nothing",), "honor": ("honor", "honour"), "cat": ("cat",), "sharp": ("sharp",),
    "cola": ("cola",), "lava": ("lava",),
}

BRAND_FIXES = {"redmi": "xiaomi", "letv": "leeco"}
SUB_BRAND_NAMES = {"redmi": ("Redmi", "红米")}

# Rows that are not products a shop can sell (a rumoured phone listed with a made-up price).
INDIA_SKIP_MODELS = {"Tesla Pi Phone": "rumoured, never released"}

_CJK = re.compile(r"[\u4e00-\u9fff]")


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------
def slugify(text: str) -> str:
    """Lowercase ascii slug: ids must match ``[a-z0-9-]`` whatever the source spelling."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def to_cny(amount: float, rate: Decimal) -> int:
    """Whole yuan, rounded half up on exact decimals so results never depend on float noise."""
    value = Decimal(str(amount)) * rate
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def pseudo_stock(product_id: str) -> int:
    """Stock derived from the id, so it is stable across runs and varied across products."""
    return int(hashlib.md5(product_id.encode("utf-8")).hexdigest(), 16) % STOCK_MODULO


def missing(value: Any) -> bool:
    """True for None, NaN and blank strings: pandas gives all three for an empty cell."""
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and not value.strip()


def storage_label(gigabytes: float) -> str:
    """'1TB' rather than '1024GB': how shops and shoppers write large storage."""
    if gigabytes >= 1024 and gigabytes % 1024 == 0:
        return f"{int(gigabytes // 1024)}TB"
    return f"{int(gigabytes)}GB"


def number(value: float) -> str:
    """Shortest human form of a measurement: 6.0 -> '6', 6.67 -> '6.67'."""
    return f"{value:g}"


def brand_names(brand: str) -> Tuple[str, str]:
    """English and Chinese display names of a canonical brand."""
    en, zh, _ = BRAND_TABLE[brand]
    return en, zh


def strip_brand_prefix(model: str, brand: str) -> str:
    """'OnePlus 11 5G' -> '11 5G', so the Chinese name can put '一加' in front instead."""
    en, zh, extra = BRAND_TABLE[brand]
    for prefix in sorted({en, zh, *extra}, key=lambda p: (-len(p), p)):
        if _CJK.search(prefix):
            continue
        match = re.match(rf"{re.escape(prefix)}\s+", model, flags=re.IGNORECASE)
        if match:
            return model[match.end():]
    return model


def join_en(items: Sequence[str]) -> str:
    """'a, b and c': English list for generated descriptions."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def localized_points(points: Iterable[Tuple[str, str]]) -> Dict[str, List[str]]:
    """Selling points as parallel English and Chinese lists, at most MAX_SELLING_POINTS."""
    chosen = list(points)[:MAX_SELLING_POINTS]
    return {"en": [en for en, _ in chosen], "zh": [zh for _, zh in chosen]}


# ---------------------------------------------------------------------------------------------
# Drafts and id assignment
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Qualifier:
    """One way to tell products with the same base id apart: an id part and a name label."""

    id_part: str
    label_en: str = ""
    label_zh: str = ""


@dataclass
class Draft:
    """A product before its id is final; ``qualifiers`` are tried in order on id collisions."""

    base_id: str
    qualifiers: Tuple[Qualifier, ...]
    fields: Dict[str, Any]
    name_en: Callable[[List[str]], str]
    name_zh: Callable[[List[str]], str]
    preference: Tuple[Any, ...]  # lower is better when identical products are merged
    id: str = ""
    level: int = 0  # how many qualifiers the id uses
    labels_en: List[str] = field(default_factory=list)
    labels_zh: List[str] = field(default_factory=list)


def assign_ids(drafts: List[Draft]) -> Tuple[List[Draft], int]:
    """Give every draft a unique id; merge drafts no qualifier can tell apart.

    All members of a colliding group get the same qualifier, so an id depends only on
    its siblings' data, never on row order. Returns the kept drafts and how many merged.
    """
    for draft in drafts:
        draft.id, draft.level, draft.labels_en, draft.labels_zh = draft.base_id, 0, [], []
    while True:
        groups: Dict[str, List[Draft]] = defaultdict(list)
        for draft in drafts:
            groups[draft.id].append(draft)
        changed = False
        for key in sorted(groups):
            members = groups[key]
            if len(members) < 2:
                continue
            start = max(m.level for m in members)
            depth = min(len(m.qualifiers) for m in members)
            for k in range(start, depth):
                if len({m.qualifiers[k].id_part for m in members}) > 1:
                    for m in members:
                        qualify(m, k)
                    changed = True
                    break
        if not changed:
            break
    kept: Dict[str, Draft] = {}
    for draft in drafts:
        best = kept.get(draft.id)
        if best is None or draft.preference < best.preference:
            kept[draft.id] = draft
    return sorted(kept.values(), key=lambda d: d.id), len(drafts) - len(kept)


def qualify(draft: Draft, k: int) -> None:
    """Append qualifier ``k`` to the draft's id and, if it has one, its label to the names."""
    q = draft.qualifiers[k]
    if q.id_part:
        draft.id = f"{draft.id}-{q.id_part}"
    if q.label_en:
        draft.labels_en.append(q.label_en)
        draft.labels_zh.append(q.label_zh or q.label_en)
    draft.level = k + 1


def claim_id(draft: Draft, taken: Mapping[str, Any]) -> bool:
    """Qualify a later source's draft until its id is free; False if it only repeats an earlier product.

    Earlier sources keep their ids, so adding a source never renames what is already there.
    """
    while draft.id in taken:
        if draft.level >= len(draft.qualifiers):
            return False
        qualify(draft, draft.level)
    return True


def finish(draft: Draft) -> Dict[str, Any]:
    """The catalog record of a draft whose id is final, with keys in schema order."""
    record = dict(draft.fields)
    record["id"] = draft.id
    record["name"] = {"en": draft.name_en(draft.labels_en), "zh": draft.name_zh(draft.labels_zh)}
    record["stock"] = pseudo_stock(draft.id)
    return {key: record.get(key) for key in RECORD_KEYS}


def base_fields(category: str, brand: str, model: str, price: int, source: str, **extra: Any) -> Dict[str, Any]:
    """Fields every record has, with null where a source knows nothing."""
    fields: Dict[str, Any] = {
        "category": category, "brand": brand, "model": model, "price": price, "list_price": price,
        "currency": "CNY", "rating": None, "review_count": None, "release_year": None, "source": source,
    }
    fields.update(extra)
    return fields


def ordered_specs(specs: Mapping[str, Any], keys: Sequence[str]) -> Dict[str, Any]:
    """Specs in a fixed key order without unknown values, so output is stable and compact."""
    return {key: specs[key] for key in keys if key in specs and not missing(specs[key])}


def config_qualifier(ram_gb: Optional[int], storage_gb: Optional[int]) -> Qualifier:
    """'8gb-128gb': RAM/storage is what tells two phones of one model apart (shown in the name already)."""
    parts = [f"{ram_gb}gb" if ram_gb else "", slugify(storage_label(storage_gb)) if storage_gb else ""]
    return Qualifier("-".join(p for p in parts if p))


def phone_config_label(ram_gb: Optional[int], storage_gb: Optional[int]) -> str:
    """'12GB/256GB' (or just '128GB' when a listing does not give RAM)."""
    parts = [f"{ram_gb}GB" if ram_gb else "", storage_label(storage_gb) if storage_gb else ""]
    return "/".join(p for p in parts if p)


def phone_name(model: str, config: str) -> Callable[[List[str]], str]:
    """Name builder: model, then configuration and any disambiguating labels in brackets."""
    def build(labels: List[str]) -> str:
        extra = [part for part in [config, *labels] if part]
        return f"{model} ({', '.join(extra)})" if extra else model
    return build


# ---------------------------------------------------------------------------------------------
# Phone descriptions, shared by both phone sources
# ---------------------------------------------------------------------------------------------
def phone_description(specs: Mapping[str, Any]) -> Dict[str, str]:
    """One generated sentence per language, e.g. '6.7-inch 120 Hz phone with 12 GB RAM, ...'."""
    head_en, head_zh = "Phone", "手机"
    if "screen_in" in specs:
        hz_en = f" {specs['refresh_hz']} Hz" if "refresh_hz" in specs else ""
        hz_zh = f" {specs['refresh_hz']}Hz " if "refresh_hz" in specs else ""
        head_en = f"{number(specs['screen_in'])}-inch{hz_en} phone"
        head_zh = f"{number(specs['screen_in'])} 英寸{hz_zh}屏幕手机"
    with_en: List[str] = []
    with_zh: List[str] = []
    if "ram_gb" in specs:
        with_en.append(f"{specs['ram_gb']} GB RAM")
        with_zh.append(f"{specs['ram_gb']}GB 内存")
    if "storage_gb" in specs:
        label = storage_label(specs["storage_gb"])
        with_en.append(f"{label[:-2]} {label[-2:]} storage")
        with_zh.append(f"{label} 存储")
    if "battery_mah" in specs:
        with_en.append(f"a {specs['battery_mah']} mAh battery")
        with_zh.append(f"{specs['battery_mah']}mAh 电池")
    if not with_en:
        return {"en": f"{head_en}.", "zh": f"{head_zh}。"}
    en = f"{head_en} with {join_en(with_en)}."
    zh = f"{head_zh}，配备 {'、'.join(with_zh)}。" if "screen_in" in specs else f"配备 {'、'.join(with_zh)}的手机。"
    return {"en": en[0].upper() + en[1:], "zh": zh}


def phone_selling_points(specs: Mapping[str, Any]) -> Dict[str, List[str]]:
    """The few specs shoppers ask about first, in a fixed order."""
    points: List[Tuple[str, str]] = []
    if specs.get("has_5g"):
        points.append(("5G", "5G"))
    if specs.get("refresh_hz", 0) >= 90:
        points.append((f"{specs['refresh_hz']} Hz display", f"{specs['refresh_hz']}Hz 高刷屏"))
    if specs.get("fast_charging_w", 0) >= 30:
        points.append((f"{specs['fast_charging_w']} W fast charging", f"{specs['fast_charging_w']}W 快充"))
    if specs.get("battery_mah", 0) >= 5000:
        points.append((f"{specs['battery_mah']} mAh battery", f"{specs['battery_mah']}mAh 大电池"))
    if specs.get("rear_camera_mp", 0) >= 100:
        points.append((f"{number(specs['rear_camera_mp'])} MP camera", f"{number(specs['rear_camera_mp'])}MP 主摄"))
    if specs.get("ram_gb", 0) >= 12:
        points.append((f"{specs['ram_gb']} GB RAM", f"{specs['ram_gb']}GB 大内存"))
    if specs.get("has_nfc"):
        points.append(("NFC", "NFC"))
    return localized_points(points)


# ---------------------------------------------------------------------------------------------
# smartphones_india.csv
# ---------------------------------------------------------------------------------------------
_INDIA_CONFIG = re.compile(
    r"\s*\((?:(?P<ram>\d+)\s*GB\s*RAM\s*\+\s*)?(?P<storage>\d+)\s*(?P<unit>GB|TB)\)\s*$", re.IGNORECASE
)
_INDIA_OS = {"android": "Android", "ios": "iOS"}  # 'other' tells a shopper nothing, so it is left out


def india_phone_specs(row: Mapping[str, Any]) -> Dict[str, Any]:
    """Typed specs from one smartphones_india row; fast charging only where its wattage is known."""
    specs: Dict[str, Any] = {
        "ram_gb": int(row["ram_capacity"]),
        "storage_gb": int(row["internal_memory"]),
        "screen_in": float(row["screen_size"]),
        "refresh_hz": int(row["refresh_rate"]),
        "has_5g": bool(row["has_5g"]),
        "has_nfc": bool(row["has_nfc"]),
        "num_rear_cameras": int(row["num_rear_cameras"]),
        "rear_camera_mp": float(row["primary_camera_rear"]),
        "resolution": f"{int(row['resolution_width'])}x{int(row['resolution_height'])}",
    }
    if not missing(row["battery_capacity"]):
        specs["battery_mah"] = int(row["battery_capacity"])
    if int(row["fast_charging_available"]) == 1 and not missing(row["fast_charging"]):
        specs["fast_charging_w"] = int(row["fast_charging"])
    if not missing(row["processor_brand"]):
        specs["chipset"] = str(row["processor_brand"]).strip().lower()
    if not missing(row["num_cores"]):
        specs["cores"] = int(row["num_cores"])
    if not missing(row["primary_camera_front"]):
        specs["front_camera_mp"] = float(row["primary_camera_front"])
    if str(row["os"]).lower() in _INDIA_OS:
        specs["os"] = _INDIA_OS[str(row["os"]).lower()]
    return ordered_specs(specs, PHONE_SPEC_KEYS)


def india_phone_draft(row: Mapping[str, Any], log: Counter) -> Optional[Draft]:
    """Draft of one Indian listing; the '(8GB RAM + 128GB)' in some model names moves to the name."""
    if missing(row["price"]) or float(row["price"]) <= 0:
        log["india: no price"] += 1
        return None
    model = str(row["model"]).strip()
    if model in INDIA_SKIP_MODELS:
        log[f"india: skipped {model} ({INDIA_SKIP_MODELS[model]})"] += 1
        return None
    brand = BRAND_FIXES.get(str(row["brand_name"]).strip().lower(), str(row["brand_name"]).strip().lower())
    specs = india_phone_specs(row)
    match = _INDIA_CONFIG.search(model)
    if match:
        named = int(match["storage"]) * (1024 if match["unit"].upper() == "TB" else 1)
        if named != specs["storage_gb"] or (match["ram"] and int(match["ram"]) != specs["ram_gb"]):
            log["india: config in model name disagrees with columns (columns used)"] += 1
        model = model[: match.start()].strip()
    short_model = strip_brand_prefix(model, brand)
    brand_zh = brand_names(brand)[1]
    rating = None if missing(row["rating"]) else round(float(row["rating"]) / 20, 2)
    config = phone_config_label(specs["ram_gb"], specs["storage_gb"])
    fields = base_fields(
        "phone", brand, model, to_cny(float(row["price"]), INR_TO_CNY), PHONES_INDIA, rating=rating, specs=specs,
        description=phone_description(specs), selling_points=phone_selling_points(specs),
    )
    qualifiers = (
        config_qualifier(specs["ram_gb"], specs["storage_gb"]),
        Qualifier(slugify(specs.get("chipset", "")), specs.get("chipset", "").title()),
        Qualifier(f"{specs['refresh_hz']}hz", f"{specs['refresh_hz']} Hz"),
    )
    return Draft(
        base_id=f"phone-{brand}-{slugify(short_model)}", qualifiers=qualifiers, fields=fields,
        name_en=phone_name(model, config), name_zh=phone_name(f"{brand_zh} {short_model}", config),
        preference=(fields["price"], model),
    )


def load_india_phones(path: Path, log: Counter) -> List[Draft]:
    """All usable rows of smartphones_india.csv."""
    frame = pd.read_csv(path, encoding="utf-8")
    drafts = [india_phone_draft(row, log) for row in frame.to_dict("records")]
    return [d for d in drafts if d is not None]


# ---------------------------------------------------------------------------------------------
# laptops_europe.csv
# ---------------------------------------------------------------------------------------------
# The file lost its accents (U+FFFD) and spells one Greek 'M' as text; both are restored here.
LAPTOP_TEXT_FIXES = {"Port\ufffdg\ufffd": "Portégé", "<U+039C>": "M"}
_STORAGE_PART = re.compile(
    r"(?P<size>[\d.]+)\s*(?P<unit>GB|TB)\s+(?P<kind>SSD|HDD|Flash Storage|Hybrid)", re.IGNORECASE
)
_STORAGE_KIND = {"ssd": "SSD", "hdd": "HDD", "flash storage": "Flash", "hybrid": "Hybrid"}
_LAPTOP_TYPE = {
    "Notebook": ("laptop", "笔记本"),
    "Ultrabook": ("ultrabook", "轻薄本"),
    "Gaming": ("gaming laptop", "游戏本"),
    "2 in 1 Convertible": ("2-in-1 convertible", "二合一笔记本"),
    "Workstation": ("mobile workstation", "移动工作站"),
    "Netbook": ("netbook", "上网本"),
}
_LAPTOP_TYPE_POINT = {
    "Gaming": ("Gaming", "游戏本"),
    "Ultrabook": ("Ultrabook", "轻薄本"),
    "2 in 1 Convertible": ("2-in-1", "二合一"),
    "Workstation": ("Workstation", "移动工作站"),
}


def fix_text(value: Any) -> Any:
    """Undo the encoding damage listed in LAPTOP_TEXT_FIXES."""
    if not isinstance(value, str):
        return value
    for broken, fixed in LAPTOP_TEXT_FIXES.items():
        value = value.replace(broken, fixed)
    return value


def parse_storage(memory: Any) -> Tuple[Optional[int], Optional[str], str]:
    """'128GB SSD +  1TB HDD' -> (1152, 'SSD+HDD', '128GB SSD+1TB HDD'); TB counts as 1024 GB."""
    if missing(memory):
        return None, None, ""
    total, kinds, labels = 0, [], []
    for match in _STORAGE_PART.finditer(str(memory)):
        size = float(match["size"]) * (1024 if match["unit"].upper() == "TB" else 1)
        kind = _STORAGE_KIND[match["kind"].lower()]
        total += int(size)
        labels.append(f"{storage_label(size)} {kind}")
        if kind not in kinds:
            kinds.append(kind)
    if not total:
        return None, None, ""
    return total, "+".join(kinds), "+".join(labels)


def cpu_family(cpu: str) -> str:
    """Short CPU name for product names: 'Intel Core i5 7200U 2.5GHz' -> 'i5'."""
    patterns = (
        (r"Core (i\d)", r"\1"), (r"Core M", "Core M"), (r"Ryzen", "Ryzen"), (r"Xeon", "Xeon"),
        (r"Celeron", "Celeron"), (r"Pentium", "Pentium"), (r"Atom", "Atom"), (r"AMD (A\d+)-Series", r"AMD \1"),
        (r"AMD E-Series", "AMD E"), (r"AMD FX", "AMD FX"), (r"Cortex", "ARM Cortex"),
    )
    for pattern, short in patterns:
        match = re.search(pattern, cpu)
        if match:
            return match.expand(short)
    return cpu.split()[0]


def cpu_model(cpu: str) -> str:
    """CPU without its clock speed, for descriptions: 'Intel Core i5 7200U'."""
    return re.sub(r"\s+[\d.]+GHz$", "", cpu).strip()


def short_cpu(cpu: str) -> str:
    """'i5 7200U': the CPU label used when the family does not tell laptops apart."""
    return re.sub(r"^Intel Core (?=i\d)|^Intel |^AMD ", "", cpu_model(cpu))


def short_gpu(gpu: str) -> str:
    """'GTX 1060', 'HD Graphics 620', 'Radeon 530': GPU without the vendor prefix."""
    return re.sub(r"^Nvidia (GeForce (?=GTX|GT |MX))?|^Intel |^AMD |^ARM ", "", gpu)


def screen_specs(screen: str) -> Dict[str, Any]:
    """Resolution and touchscreen from 'IPS Panel Full HD / Touchscreen 1920x1080'."""
    specs: Dict[str, Any] = {"touchscreen": "touchscreen" in screen.lower()}
    match = re.search(r"(\d+)x(\d+)", screen)
    if match:
        specs["resolution"] = f"{match[1]}x{match[2]}"
    return specs


def infer_company(frame: pd.DataFrame) -> pd.Series:
    """Fill a missing maker from rows of the same product, else of the same product series."""
    company = frame["Company"].copy()
    for column in ("Product", "Series"):
        makers: Dict[str, set] = defaultdict(set)
        for key, maker in zip(frame[column], frame["Company"]):
            if not missing(maker):
                makers[key].add(maker)
        unique = {key: next(iter(found)) for key, found in makers.items() if len(found) == 1}
        company = company.fillna(frame[column].map(unique))
    return company


def laptop_specs(row: Mapping[str, Any]) -> Dict[str, Any]:
    """Typed specs of one laptop row; unknown values are simply absent."""
    storage_gb, storage_type, _ = parse_storage(row["Memory"])
    specs: Dict[str, Any] = {"ram_gb": int(str(row["Ram"]).upper().replace("GB", ""))}
    specs["storage_gb"], specs["storage_type"] = storage_gb, storage_type
    if not missing(row["Inches"]):
        specs["screen_in"] = float(row["Inches"])
    specs.update(screen_specs(str(row["ScreenResolution"])))
    for key, column in (("cpu", "Cpu"), ("gpu", "Gpu"), ("os", "OpSys"), ("type", "TypeName")):
        if not missing(row[column]):
            specs[key] = str(row[column]).strip()
    if not missing(row["Weight"]):
        match = re.match(r"([\d.]+)\s*kg", str(row["Weight"]))
        if match:
            specs["weight_g"] = int(Decimal(match[1]) * 1000)
    return ordered_specs(specs, LAPTOP_SPEC_KEYS)


def laptop_description(specs: Mapping[str, Any], storage_text: str) -> Dict[str, str]:
    """One sentence per language from the specs, e.g. '15.6-inch laptop with an Intel Core i5 ...'."""
    kind_en, kind_zh = _LAPTOP_TYPE.get(specs.get("type", ""), ("laptop", "笔记本"))
    head_en = f"{number(specs['screen_in'])}-inch {kind_en}" if "screen_in" in specs else kind_en
    head_zh = f"{number(specs['screen_in'])} 英寸{kind_zh}" if "screen_in" in specs else kind_zh
    cpu = cpu_model(specs.get("cpu", ""))
    article = "an" if cpu[:1] in "AEIOU" else "a"
    with_en = [f"{article} {cpu}" if cpu else "", f"{specs['ram_gb']} GB RAM",
               f"{storage_text} storage" if storage_text else ""]
    with_zh = [f"{cpu} 处理器" if cpu else "", f"{specs['ram_gb']}GB 内存",
               f"{storage_text} 存储" if storage_text else ""]
    en = f"{head_en} with {join_en([w for w in with_en if w])}"
    zh = f"{head_zh}，{'，'.join(w for w in with_zh if w)}"
    if "weight_g" in specs:
        kg = number(specs["weight_g"] / 1000)
        en += f", weighing {kg} kg"
        zh += f"，重 {kg}kg"
    return {"en": en[0].upper() + en[1:] + ".", "zh": zh + "。"}


def dedicated_gpu(gpu: str) -> bool:
    """Nvidia and AMD cards, except AMD's integrated 'Radeon R5' / 'R4 Graphics' that share memory."""
    if gpu.startswith("Nvidia"):
        return True
    return gpu.startswith("AMD") and not re.fullmatch(r"AMD (Radeon )?R\d( Graphics)?", gpu)


def laptop_selling_points(specs: Mapping[str, Any]) -> Dict[str, List[str]]:
    """Type, dedicated graphics, SSD, touch, 4K, light weight, big RAM: in that order."""
    points: List[Tuple[str, str]] = []
    if specs.get("type") in _LAPTOP_TYPE_POINT:
        points.append(_LAPTOP_TYPE_POINT[specs["type"]])
    gpu = specs.get("gpu", "")
    if dedicated_gpu(gpu):
        short = short_gpu(gpu)
        points.append((f"{short} graphics", f"{short} 独显"))
    if "SSD" in specs.get("storage_type", ""):
        points.append(("SSD", "固态硬盘"))
    if specs.get("touchscreen"):
        points.append(("Touchscreen", "触控屏"))
    width = int(specs.get("resolution", "0x0").split("x")[0])
    if width >= 3840:
        points.append(("4K display", "4K 屏"))
    elif width >= 1920:
        points.append(("Full HD display", "全高清屏"))
    if specs.get("weight_g", 10**6) <= 1300:
        kg = number(specs["weight_g"] / 1000)
        points.append((f"Lightweight {kg} kg", f"轻至 {kg}kg"))
    if specs.get("ram_gb", 0) >= 16:
        points.append((f"{specs['ram_gb']} GB RAM", f"{specs['ram_gb']}GB 大内存"))
    return localized_points(points)


def laptop_qualifiers(specs: Mapping[str, Any], config: str, ips_panel: bool) -> Tuple[Qualifier, ...]:
    """Finer and finer details, used only as far as needed to tell same-named laptops apart."""
    resolution = specs.get("resolution", "")
    touch = "touchscreen" if specs.get("touchscreen") else "non-touch"
    weight = number(specs["weight_g"] / 1000) if "weight_g" in specs else ""
    ips = "ips" if ips_panel else "non-ips"
    kind = specs.get("type", "")
    clock = re.search(r"([\d.]+)GHz", specs.get("cpu", ""))
    ghz = number(float(clock[1])) if clock else ""
    return (
        Qualifier(slugify(config)),
        Qualifier(slugify(short_cpu(specs.get("cpu", ""))), short_cpu(specs.get("cpu", ""))),
        Qualifier(slugify(short_gpu(specs.get("gpu", ""))), short_gpu(specs.get("gpu", ""))),
        Qualifier(resolution, resolution),
        Qualifier(touch, touch.capitalize(), "触控屏" if specs.get("touchscreen") else "非触控"),
        Qualifier(ips, "IPS" if ips_panel else "non-IPS", "IPS 屏" if ips_panel else "非 IPS 屏"),
        Qualifier(f"{slugify(ghz)}ghz" if ghz else "", f"{ghz} GHz" if ghz else ""),
        Qualifier(slugify(specs.get("os", "")), specs.get("os", "")),
        Qualifier(slugify(kind), kind, _LAPTOP_TYPE.get(kind, ("", kind))[1]),
        Qualifier(f"{slugify(weight)}kg" if weight else "", f"{weight} kg" if weight else ""),
    )


def laptop_config(product: str, specs: Mapping[str, Any], storage_text: str, inch_mark: str) -> str:
    """'15.6" i5 8GB/1TB HDD': what tells configurations of one laptop apart at a glance.

    The size is left out when the product name already ends with it ('MacBook 12"', 'Chromebook 14').
    """
    last = product.split()[-1].rstrip('"') if product.split() else ""
    named_size = re.fullmatch(r"\d+(\.\d)?", last) is not None and float(last) == specs.get("screen_in")
    parts = [f"{number(specs['screen_in'])}{inch_mark}" if "screen_in" in specs and not named_size else "",
             cpu_family(specs["cpu"]) if "cpu" in specs else "",
             f"{specs['ram_gb']}GB/{storage_text}" if storage_text else f"{specs['ram_gb']}GB"]
    return " ".join(p for p in parts if p)


def laptop_draft(row: Mapping[str, Any], log: Counter) -> Optional[Draft]:
    """Draft of one laptop; its name always shows screen, CPU, RAM and storage."""
    if missing(row["Price_euros"]) or float(row["Price_euros"]) <= 0:
        log["laptops: no price"] += 1
        return None
    if missing(row["Company"]):
        log["laptops: maker unknown"] += 1
        return None
    company = str(row["Company"]).strip()
    brand = slugify(company)
    product = str(row["Product"])
    model = f"{company} {product}"
    specs = laptop_specs(row)
    _, _, storage_text = parse_storage(row["Memory"])
    config_en = laptop_config(product, specs, storage_text, '"')
    config_zh = laptop_config(product, specs, storage_text, "英寸")
    ips_panel = "ips panel" in str(row["ScreenResolution"]).lower()  # no spec key, but it can tell two listings apart
    brand_zh = brand_names(brand)[1]
    fields = base_fields(
        "laptop", brand, model, to_cny(float(row["Price_euros"]), EUR_TO_CNY), LAPTOPS_EUROPE, specs=specs,
        description=laptop_description(specs, storage_text), selling_points=laptop_selling_points(specs),
    )

    def name(prefix: str, config: str) -> Callable[[List[str]], str]:
        return lambda labels: f"{prefix} {config}" + (f" ({', '.join(labels)})" if labels else "")

    return Draft(
        base_id=f"laptop-{brand}-{slugify(product)}", qualifiers=laptop_qualifiers(specs, config_en, ips_panel),
        fields=fields, name_en=name(model, config_en), name_zh=name(f"{brand_zh} {product}", config_zh),
        preference=(fields["price"], int(row["laptop_ID"])),
    )


def canonical_products(products: pd.Series) -> pd.Series:
    """One spelling per product: drop the bracketed (often truncated) config that some names carry,
    write '15,6' as '15.6', and use the most common casing ('MacBook Air' over 'Macbook Air')."""
    cleaned = products.str.replace(r"\s*\(.*$", "", regex=True).str.replace(r"(\d),(\d)", r"\1.\2", regex=True)
    cleaned = cleaned.str.strip()
    spellings: Dict[str, Counter] = defaultdict(Counter)
    for name in cleaned:
        spellings[slugify(name)][name] += 1
    best = {key: min(found, key=lambda n: (-found[n], n)) for key, found in spellings.items()}
    return cleaned.map(lambda name: best[slugify(name)])


def load_laptops(path: Path, log: Counter) -> List[Draft]:
    """All usable rows of laptops_europe.csv, with makers filled in where the product tells."""
    frame = pd.read_csv(path, encoding="utf-8")
    for column in ("Company", "Product", "Gpu"):
        frame[column] = frame[column].map(fix_text)
    leftover = frame["Product"].astype(str).str.contains("\ufffd").sum()
    if leftover:
        log["laptops: names with lost characters left as they are"] += int(leftover)
    frame["Product"] = canonical_products(frame["Product"].astype(str))
    frame["Series"] = frame["Product"].str.split().str[0]
    filled = infer_company(frame)
    log["laptops: maker filled in from the same product"] += int((frame["Company"].isna() & filled.notna()).sum())
    frame["Company"] = filled
    drafts = [laptop_draft(row, log) for row in frame.to_dict("records")]
    return [d for d in drafts if d is not None]


# ---------------------------------------------------------------------------------------------
# jd_phones_zh.jsonl: Chinese listing titles
# ---------------------------------------------------------------------------------------------
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
    if _CJK.search(model_en) or not re.search(r"[A-Za-z0-9]", model_en):
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
        "phone", listing.brand, model, to_cny(price, Decimal(1)), JD_PHONES, rating=rating, review_count=comments,
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


def load_jd_phones(path: Path, log: Counter) -> List[Draft]:
    """All JD listings that parse cleanly; duplicates of one phone are merged by id later."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    seen: set = set()
    unique_rows = []
    for row in rows:
        if row.get("p_id") in seen:
            log["jd: duplicate listing id"] += 1
            continue
        seen.add(row.get("p_id"))
        unique_rows.append(row)
    drafts = [jd_draft(row, log) for row in unique_rows]
    return drop_unconfigured_duplicates([d for d in drafts if d is not None], log)


# ---------------------------------------------------------------------------------------------
# Curated categories: data/catalog/curated/<category>.yml
# ---------------------------------------------------------------------------------------------
def curated_record(category: str, entry: Mapping[str, Any], source: str) -> Tuple[Dict[str, Any], List[Mapping[str, Any]]]:
    """One curated entry as a catalog record, plus its ``fits`` selectors (resolved later)."""
    source_brand = str(entry["brand"])
    brand = BRAND_FIXES.get(source_brand, source_brand)
    brand_en, brand_zh = brand_names(brand)
    model = str(entry["model"]).strip()
    variant = str(entry.get("variant") or "").strip()
    model_zh = str(entry.get("name_zh") or model).strip()
    if brand != source_brand:  # a sub-brand filed under its parent keeps its name: "Xiaomi Redmi Pad Pro"
        sub_en, sub_zh = SUB_BRAND_NAMES.get(source_brand, (source_brand.title(), source_brand.title()))
        model, model_zh = f"{sub_en} {model}", f"{sub_zh}{model_zh}"
    suffix = f" ({variant})" if variant else ""
    product_id = slugify("-".join(part for part in (category, brand, model, variant) if part))
    price = int(entry["price"])
    record: Dict[str, Any] = base_fields(
        category, brand, model, price, f"curated/{source}",
        list_price=int(entry.get("list_price") or price),
        rating=entry.get("rating"),
        release_year=entry.get("release_year"),
        specs=dict(entry.get("specs") or {}),
        description={"en": entry["description"]["en"], "zh": entry["description"]["zh"]},
        selling_points={lang: list(entry["selling_points"][lang]) for lang in ("en", "zh")},
    )
    record["id"] = product_id
    record["name"] = {"en": f"{brand_en} {model}{suffix}", "zh": f"{brand_zh} {model_zh}{suffix}"}
    record["stock"] = pseudo_stock(product_id)
    record["fits"] = []
    return {key: record.get(key) for key in RECORD_KEYS}, list(entry.get("fits") or [])


def load_curated(curated_dir: Path, log: Counter) -> Tuple[List[Dict[str, Any]], Dict[str, List[Mapping[str, Any]]]]:
    """Records of every curated file, and the ``fits`` selectors per accessory id."""
    records: List[Dict[str, Any]] = []
    selectors: Dict[str, List[Mapping[str, Any]]] = {}
    for path in sorted(curated_dir.glob("*.yml")):
        category = path.stem
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            record, fits = curated_record(category, entry, path.name)
            records.append(record)
            if fits:
                selectors[record["id"]] = fits
        log[f"curated/{path.name}: products"] += sum(1 for r in records if r["category"] == category)
    return records, selectors


def selector_matches(selector: Mapping[str, Any], product: Mapping[str, Any]) -> bool:
    """A ``fits`` selector (category, optional brand, optional regex on the model without brand)."""
    if product["category"] != selector["category"]:
        return False
    if selector.get("brand") and product["brand"] != selector["brand"]:
        return False
    pattern = selector.get("model_pattern")
    return not pattern or re.search(pattern, strip_brand_prefix(product["model"], product["brand"])) is not None


def resolve_fits(records: List[Dict[str, Any]], selectors: Mapping[str, List[Mapping[str, Any]]], log: Counter) -> None:
    """Turn selectors into explicit, sorted product ids, so links are plain data in the catalog."""
    for record in records:
        rules = selectors.get(record["id"])
        if not rules:
            continue
        record["fits"] = sorted({p["id"] for p in records if p["id"] != record["id"] and any(selector_matches(r, p) for r in rules)})
        if not record["fits"]:
            log["curated: accessory whose selectors match no product in the catalog"] += 1


# ---------------------------------------------------------------------------------------------
# Assembly, validation and output
# ---------------------------------------------------------------------------------------------
def build_products(source: Path, log: Counter, curated_dir: Optional[Path] = None) -> List[Dict[str, Any]]:
    """All records, ids unique within each source; a later source never takes an earlier id."""
    loaders = ((PHONES_INDIA, load_india_phones), (LAPTOPS_EUROPE, load_laptops), (JD_PHONES, load_jd_phones))
    records: Dict[str, Dict[str, Any]] = {}
    for name, loader in loaders:
        drafts, merged = assign_ids(loader(source / name, log))
        if merged:
            log[f"{name}: identical products merged (cheapest or official listing kept)"] += merged
        for draft in drafts:
            if not claim_id(draft, records):
                log[f"{name}: same product as in an earlier source, skipped"] += 1
                continue
            records[draft.id] = finish(draft)
    for record in records.values():
        record["fits"] = []
    if curated_dir is not None and curated_dir.is_dir():
        curated, selectors = load_curated(curated_dir, log)
        for record in curated:
            if record["id"] in records:
                raise SystemExit(f"curated product {record['id']} duplicates an id already in the catalog")
            records[record["id"]] = record
        ordered = [records[key] for key in sorted(records)]
        resolve_fits(ordered, selectors, log)
        return ordered
    return [records[key] for key in sorted(records)]


def alias_table() -> Dict[str, Dict[str, Dict[str, Any]]]:
    """The alias file's content: names plus lowercase Latin / Chinese aliases, without repeats."""
    def entry(key: str, en: str, zh: str, extra: Sequence[str]) -> Dict[str, Any]:
        aliases: List[str] = []
        for alias in (en, zh, *extra):
            alias = " ".join(alias.split())
            alias = alias if _CJK.search(alias) else alias.lower()
            if alias and alias not in aliases:
                aliases.append(alias)
        result: Dict[str, Any] = {"en": en, "zh": zh, "aliases": aliases}
        if key in AMBIGUOUS_ALIASES:
            result["ambiguous"] = list(AMBIGUOUS_ALIASES[key])
        return result

    return {
        "categories": {key: entry(key, *value) for key, value in CATEGORY_TABLE.items()},
        "brands": {key: entry(key, *value) for key, value in BRAND_TABLE.items()},
    }


def render_aliases(table: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    """One flow-style line per entry: easy to scan and to diff."""
    lines = [
        "# Canonical categories and brands with their English and Chinese aliases.",
        "# Generated by scripts/build_catalog.py (edit CATEGORY_TABLE / BRAND_TABLE there), then run",
        "# scripts/generate_nlu_lookups.py so the NLU lookup tables follow.",
    ]
    for section, entries in table.items():
        lines.append(f"{section}:")
        for key, value in entries.items():
            flow = yaml.safe_dump(dict(value), default_flow_style=True, allow_unicode=True, sort_keys=False,
                                  width=10**6).strip()
            lines.append(f"  {key}: {flow}")
    text = "\n".join(lines) + "\n"
    if yaml.safe_load(text) != json.loads(json.dumps(table)):
        raise SystemExit("aliases.yml would not read back as written")
    return text


def validate(products: Sequence[Mapping[str, Any]], table: Mapping[str, Mapping[str, Any]]) -> List[str]:
    """Problems that would make the catalog unusable; empty when all is well."""
    problems: List[str] = []
    ids = Counter(p["id"] for p in products)
    problems += [f"duplicate id {pid}" for pid, n in ids.items() if n > 1]
    for product in products:
        pid = product["id"]
        if list(product) != list(RECORD_KEYS):
            problems.append(f"{pid}: keys differ from the schema")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", pid):
            problems.append(f"{pid}: id is not a lowercase ascii slug")
        if product["brand"] not in table["brands"]:
            problems.append(f"{pid}: brand {product['brand']!r} missing from aliases.yml")
        if product["category"] not in table["categories"]:
            problems.append(f"{pid}: category {product['category']!r} missing from aliases.yml")
        if not (isinstance(product["price"], int) and product["price"] > 0):
            problems.append(f"{pid}: price {product['price']!r} is not a positive whole number")
        if product["rating"] is not None and not 0 <= product["rating"] <= 5:
            problems.append(f"{pid}: rating {product['rating']} outside 0..5")
        if not (product["name"]["en"] and product["name"]["zh"]):
            problems.append(f"{pid}: name missing in one language")
        if product["list_price"] is not None and product["list_price"] < product["price"]:
            problems.append(f"{pid}: list price below price")
    return problems


def summary(products: Sequence[Mapping[str, Any]], log: Counter) -> str:
    """Counts per category and source, price ranges, and what was skipped or merged."""
    lines = [f"{len(products)} products"]
    by_category: Dict[str, List[int]] = defaultdict(list)
    for product in products:
        by_category[product["category"]].append(product["price"])
    for category, prices in sorted(by_category.items()):
        lines.append(f"  {category}: {len(prices)} products, price {min(prices)}..{max(prices)} CNY")
    for (category, source), count in sorted(Counter((p["category"], p["source"]) for p in products).items()):
        lines.append(f"  {category} from {source}: {count}")
    if log:
        lines.append("skipped or merged:")
        lines.extend(f"  {reason}: {count}" for reason, count in sorted(log.items()))
    return "\n".join(lines)


def write_outputs(products: Sequence[Mapping[str, Any]], aliases_text: str, out_dir: Path) -> None:
    """Write both files with LF line endings and UTF-8, the same bytes on every run."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(p, ensure_ascii=False) for p in products]
    (out_dir / "products.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    (out_dir / "aliases.yml").write_text(aliases_text, encoding="utf-8", newline="\n")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Build, validate, then write; nothing is written when validation fails."""
    parser = argparse.ArgumentParser(description="Build data/catalog from ../shared/datasets/catalogs.")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="folder with the catalog datasets")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="where products.jsonl and aliases.yml go")
    parser.add_argument("--curated", type=Path, default=DEFAULT_CURATED_DIR, help="folder of curated <category>.yml files")
    args = parser.parse_args(argv)

    log: Counter = Counter()
    products = build_products(args.source.resolve(), log, args.curated.resolve())
    table = alias_table()
    problems = validate(products, table)
    if problems:
        print("catalog is invalid:\n  " + "\n  ".join(problems[:50]), file=sys.stderr)
        return 1
    write_outputs(products, render_aliases(table), args.out_dir)
    print(summary(products, log))
    print(f"wrote {args.out_dir / 'products.jsonl'} and {args.out_dir / 'aliases.yml'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
