"""``laptops_europe.csv`` (EUR): laptops, where one product name often covers several configurations.

So a laptop's name always carries its configuration ('15.6" i5 8GB/256GB SSD'), and finer details
(CPU, GPU, screen, ...) join the id only as far as needed to tell same-named rows apart; rows no
detail tells apart are one product, sold at the cheapest row's price. The file lost some accents
and has rows without a maker; both are repaired from the other rows where they tell.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import pandas as pd

from catalog_build.common import (
    EUR_TO_CNY, base_fields, brand_names, join_en, localized_points, missing, number, numbered, ordered_specs,
    slugify, storage_label, to_cny,
)
from catalog_build.drafts import Draft, Qualifier, parse_rows

FILE_NAME = "laptops_europe.csv"
LAPTOP_SPEC_KEYS = (
    "ram_gb", "storage_gb", "storage_type", "screen_in", "resolution", "touchscreen", "cpu", "gpu", "os",
    "weight_g", "type",
)

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
        "laptop", brand, model, to_cny(float(row["Price_euros"]), EUR_TO_CNY), FILE_NAME, specs=specs,
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
    return parse_rows(numbered(path.name, frame.to_dict("records"), first_line=2), partial(laptop_draft, log=log))

