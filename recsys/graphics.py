"""A rough gaming strength for a graphics chip named in free text ("Nvidia GeForce GTX 1060").

Laptop sources give the GPU as a name, not a number, so a shopper asking for
a gaming laptop would otherwise be ranked by RAM. The tiers are coarse (0-12,
higher is faster) and follow the usual generational order: integrated Intel
and AMD graphics, entry GeForce MX / 9xxM and Radeon R5-R7, mid GTX 1050-1060
and RX 5xx, high GTX 1070/1080 and RTX. Unknown names get no tier, so they
are judged on the next spec instead of being guessed.
"""
from __future__ import annotations

import re
from typing import Optional

# Nvidia GeForce by model number: the number's last two digits rank within a generation.
_GEFORCE = re.compile(r"(?:gtx|rtx)\s*(\d{3,4})\s*(ti)?", re.IGNORECASE)
_RADEON_RX = re.compile(r"radeon\s+(?:pro\s+)?(?:rx\s*)?(\d{3})", re.IGNORECASE)
_QUADRO = re.compile(r"quadro\s+m?(\d{3,4})", re.IGNORECASE)


def graphics_tier(name: str) -> Optional[float]:
    """The chip's tier, 0..12, or None when the name is not recognised."""
    text = " ".join(name.lower().split())
    if not text:
        return None
    match = _GEFORCE.search(text)
    if match:
        number, ti = int(match.group(1)), bool(match.group(2))
        if number >= 2000:  # RTX: 2060 -> 6, 3060 -> 7, 4060 -> 8, 4090 -> 11
            tier = 5.0 + (number // 1000 - 2) + (number % 100 - 50) / 10.0
        elif number >= 1000:  # GTX 10xx / 16xx: 1050 -> 3, 1060 -> 4, 1070 -> 5, 1080 -> 6
            tier = 3.0 + (number % 100 - 50) / 10.0 + (1.0 if number >= 1600 else 0.0)
        else:  # GTX 9xx(M): 950M -> 2.5, 960M -> 3, 970M -> 3.5, 980 -> 4
            tier = 2.5 + (number % 100 - 50) / 20.0
        return round(tier + (0.5 if ti else 0.0), 2)
    if "quadro" in text:
        match = _QUADRO.search(text)
        return 2.5 if match and int(match.group(1)) >= 2000 else 1.5
    if "firepro" in text:
        return 1.5
    match = _RADEON_RX.search(text)
    if match and ("rx" in text or "pro" in text):
        return 2.5 + (int(match.group(1)) % 100 - 40) / 20.0  # RX 540 -> 2.5, RX 560 -> 3.5, RX 580 -> 4.5
    if "geforce" in text or "nvidia" in text:
        return 1.5  # MX130/150, 920M-940MX: entry discrete chips
    if "radeon" in text or re.search(r"\bamd\b", text):
        return 1.0
    if "intel" in text or "mali" in text:
        return 0.5 if "iris" in text else 0.0
    return None
