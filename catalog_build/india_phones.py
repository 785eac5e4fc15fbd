"""``smartphones_india.csv`` (INR): phones with full spec sheets, one row per configuration.

Some model names repeat the configuration ('... (8GB RAM + 128GB)'); it moves out of the model
into the name's brackets, where every phone's configuration goes.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import pandas as pd

from catalog_build.common import (
    INR_TO_CNY, base_fields, brand_names, missing, numbered, ordered_specs, slugify, strip_brand_prefix, to_cny,
)
from catalog_build.drafts import Draft, Qualifier, parse_rows
from catalog_build.phones import (
    PHONE_SPEC_KEYS, config_qualifier, phone_config_label, phone_description, phone_name, phone_selling_points,
)
from recsys.taxonomy import load_taxonomy

FILE_NAME = "smartphones_india.csv"
# Rows that are not products a shop can sell (a rumoured phone listed with a made-up price).
INDIA_SKIP_MODELS = {"Tesla Pi Phone": "rumoured, never released"}

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
    brand = load_taxonomy().canonical_brand(str(row["brand_name"]).strip().lower())
    brand_zh = brand_names(brand)[1]
    specs = india_phone_specs(row)
    match = _INDIA_CONFIG.search(model)
    if match:
        named = int(match["storage"]) * (1024 if match["unit"].upper() == "TB" else 1)
        if named != specs["storage_gb"] or (match["ram"] and int(match["ram"]) != specs["ram_gb"]):
            log["india: config in model name disagrees with columns (columns used)"] += 1
        model = model[: match.start()].strip()
    short_model = strip_brand_prefix(model, brand)
    rating = None if missing(row["rating"]) else round(float(row["rating"]) / 20, 2)
    config = phone_config_label(specs["ram_gb"], specs["storage_gb"])
    fields = base_fields(
        "phone", brand, model, to_cny(float(row["price"]), INR_TO_CNY), FILE_NAME, rating=rating, specs=specs,
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
    return parse_rows(numbered(path.name, frame.to_dict("records"), first_line=2), partial(india_phone_draft, log=log))
