"""What both phone sources (India's spec sheet, JD's titles) share: specs, names, descriptions.

A phone's configuration ('12GB/256GB') is what tells two listings of one model apart, so it is
in every phone's name and is the first qualifier of its id.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from catalog_build.common import join_en, localized_points, number, slugify, storage_label
from catalog_build.drafts import Qualifier

PHONE_SPEC_KEYS = (
    "ram_gb", "storage_gb", "screen_in", "refresh_hz", "battery_mah", "fast_charging_w", "has_5g", "has_nfc",
    "chipset", "cores", "rear_camera_mp", "front_camera_mp", "num_rear_cameras", "os", "resolution",
)


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

