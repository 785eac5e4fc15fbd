"""Turning what shoppers type about money into numbers.

Shoppers write budgets in many ways: "under 3000", "3k", "¥2,999", "5000元以内",
"三千五左右", "2000到3000之间", "1.5w", "四五千". Product names are full of numbers that
are not prices ("iPhone 15", "16GB", "65W", "6.7寸"), so a number only counts
as money when it carries a currency mark or multiplier, sits next to a budget
word, or is too large to be anything else.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import List, Optional

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUMERAL = "零〇一二两三四五六七八九十百千万"

#: How far "around 4000" reaches either side.
AROUND_TOLERANCE = 0.2


class NumberFormatError(ValueError):
    """Text that looks like a number but is not one."""


def parse_chinese_number(text: str) -> int:
    """Value of a Chinese numeral, including the colloquial short forms.

    "三千" -> 3000, "三千五" -> 3500 (a trailing digit counts in the next unit
    down), "一万二" -> 12000, "十五" -> 15, "一千零五" -> 1005, "两万" -> 20000.
    """
    if not text or any(ch not in _CN_NUMERAL for ch in text):
        raise NumberFormatError(f"not a Chinese numeral: {text!r}")
    total = 0  # completed 万 sections
    section = 0  # value below 万
    digit: Optional[int] = None
    last_unit = 1
    after_zero = False
    for ch in text:
        if ch in _CN_DIGITS:
            if digit is not None and not after_zero:
                raise NumberFormatError(f"two digits in a row in {text!r}")
            digit = _CN_DIGITS[ch]
            after_zero = ch in "零〇"
            if after_zero:
                digit = None
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            section += (1 if digit is None else digit) * unit
            digit, last_unit, after_zero = None, unit, False
        else:  # 万
            section += digit or 0
            if section == 0:
                section = 1
            total += section * 10000
            section, digit, last_unit, after_zero = 0, None, 10000, False
    if digit is not None:
        # "三千五": a lone trailing digit right after a unit means one unit down; after 零 it is literal.
        trailing_zero = text[-2] in "零〇" if len(text) >= 2 else True
        section += digit if (last_unit == 1 or trailing_zero or text[-2] not in "十百千万") else digit * last_unit // 10
    return total + section


#: Below this no product can be meant ("a laptop for 5 yuan", "under -500"): the shopper is asked again.
LEAST_PLAUSIBLE_PRICE = 10.0


@dataclass(frozen=True)
class PriceRange:
    """A price constraint in CNY; either bound may be open."""

    min_price: Optional[float] = None
    max_price: Optional[float] = None

    @property
    def implausible(self) -> bool:
        """Negative or absurdly low: worth a question back rather than a list."""
        return (self.max_price is not None and self.max_price < LEAST_PLAUSIBLE_PRICE) or \
            (self.min_price is not None and self.min_price < 0)


@dataclass(frozen=True)
class _Amount:
    value: float
    start: int
    end: int
    explicit: bool  # carries a currency mark or multiplier


_AMOUNT = re.compile(
    r"(?P<cur>[¥￥$]|rmb\s*|cny\s*)?"
    r"(?:(?P<num>\d+(?:\.\d+)?)|(?P<cn>[零〇一二两三四五六七八九十百千万]+))"
    r"\s*(?P<mult>k(?![a-z])|w(?![a-z])|千|万)?"
    r"\s*(?P<unit>元|块钱|块|rmb|yuan|cny|kuai)?",
    re.IGNORECASE,
)
_SPEC_UNIT = re.compile(
    r"\s*(gb|g\b|tb|mb|mp|mah|hz|w\b|寸|英寸|inch|in\b|\"|核|代|年|月|日|号|天|小时|hours?|mm|nm|%|个|款|部|台|种|位|次|折|岁|倍|pro|max|plus|ultra|mini|s\b)",
    re.IGNORECASE,
)
_UPPER = re.compile(r"(under|below|less than|cheaper than|up to|at most|max(imum)?|no more than|not more than|within|budget|<|≤|以内|以下|之内|内|不超过|不到|低于|最多|顶多|预算|封顶)", re.IGNORECASE)
_LOWER = re.compile(r"(over|above|more than|at least|from|starting|>|≥|以上|起步|起|超过|高于|至少|不低于)", re.IGNORECASE)
_AROUND = re.compile(r"(around|about|approximately|approx\.?|roughly|~|左右|上下|大概|差不多|大约)", re.IGNORECASE)
_RANGE_JOIN = re.compile(r"^\s*(-|–|—|~|to|and|到|至|和)\s*$", re.IGNORECASE)
#: "三四千", "四五千": two neighbouring digits before a unit, a colloquial range (3,000-4,000).
_CN_NEIGHBOUR_RANGE = re.compile(r"(?<![零〇一二两三四五六七八九十百千万])([一二两三四五六七八])([二两三四五六七八九])(千|万)")
_BUDGET_WORD = re.compile(r"(budget|price|cost|spend|yuan|rmb|预算|价格|价位|钱|元|块)", re.IGNORECASE)


#: Markup and code are not money: "<script>alert(1)</script>", "&#49;", "'; DROP TABLE events; --".
_MARKUP = re.compile(r"<[^<>]{0,200}>|&#?\w{1,8};|\w+\([^()]{0,40}\)")
#: A minus or 负 right before a number (not a range's dash after another number): a negative amount.
_NEGATIVE_SIGN = re.compile(r"(?:(?<![\d\w])-|负)\s*(?=[\d零〇一二两三四五六七八九十百千万])")


def _normalise(text: str) -> str:
    """NFKC folds full-width digits and signs; thousands separators go; markup and code calls become spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = _MARKUP.sub(" ", text)
    return re.sub(r"(?<=\d)[,，](?=\d{3}\b)", "", text)


def _amounts(text: str) -> List[_Amount]:
    found: List[_Amount] = []
    for match in _AMOUNT.finditer(text):
        cur, num, cn, mult, unit = (match.group(g) for g in ("cur", "num", "cn", "mult", "unit"))
        if num is not None:
            value = float(num)
            before = text[match.start("num") - 1] if match.start("num") > 0 else ""
            if re.match(r"[a-z#_@]", before, re.IGNORECASE):
                continue  # part of a model name or code: "s23", "x100", "#12345"
            if re.match(r"[a-z_]", text[match.end("num"):match.end("num") + 1], re.IGNORECASE) and not (mult or unit):
                continue  # "8848abc", "1st"
        else:
            if cn in ("一", "两", "二") and not (mult or unit):
                continue  # "一款", "两个": an article, not an amount
            try:
                value = float(parse_chinese_number(cn))
            except NumberFormatError:
                continue
        multiplier = 1.0
        if mult:
            m = mult.lower()
            if m == "w" and value >= 10:
                continue  # "65W" is watts; "1.5w" is 15,000 yuan
            multiplier = {"k": 1000.0, "千": 1000.0, "w": 10000.0, "万": 10000.0}[m]
        explicit = bool(cur or mult or unit)
        if not explicit and _SPEC_UNIT.match(text, match.end()):
            continue
        if _NEGATIVE_SIGN.search(text[max(0, match.start() - 2):match.start() + 1]):
            value = -value
        found.append(_Amount(value * multiplier, match.start(), match.end(), explicit))
    return found


def parse_budget(text: str) -> Optional[PriceRange]:
    """Price constraint stated in a message, or None if it states none."""
    if not text:
        return None
    text = _normalise(text).lower()
    neighbours = _CN_NEIGHBOUR_RANGE.search(text)
    if neighbours and _CN_DIGITS[neighbours.group(2)] == _CN_DIGITS[neighbours.group(1)] + 1:
        unit = 1000 if neighbours.group(3) == "千" else 10000
        return PriceRange(min_price=float(_CN_DIGITS[neighbours.group(1)] * unit), max_price=float(_CN_DIGITS[neighbours.group(2)] * unit))
    amounts = [a for a in _amounts(text) if a.value != 0]
    if not amounts:
        return None
    # Two amounts joined by "to", "-", "到": a range.
    for first, second in zip(amounts, amounts[1:]):
        if _RANGE_JOIN.match(text[first.end:second.start]):
            low, high = sorted((first.value, second.value))
            return PriceRange(min_price=low, max_price=high)
    money = [a for a in amounts if a.value < 0 or _is_money(text, a)]
    if not money:
        return None
    amount = money[0]
    if _near(text, amount, _AROUND):
        return PriceRange(min_price=round(amount.value * (1 - AROUND_TOLERANCE)), max_price=round(amount.value * (1 + AROUND_TOLERANCE)))
    if _near(text, amount, _LOWER) and not _near(text, amount, _UPPER):
        return PriceRange(min_price=amount.value)
    return PriceRange(max_price=amount.value)


def _is_money(text: str, amount: _Amount) -> bool:
    """Small bare numbers are model numbers ("iPhone 15") unless a budget word stands right before them."""
    if amount.explicit:
        return True
    if amount.value >= 100:
        return True
    before = text[max(0, amount.start - 14):amount.start]
    return any(p.search(before) for p in (_UPPER, _LOWER, _AROUND, _BUDGET_WORD))


def _near(text: str, amount: _Amount, pattern: "re.Pattern[str]", window: int = 14) -> bool:
    before = text[max(0, amount.start - window):amount.start]
    after = text[amount.end:amount.end + 6]
    return bool(pattern.search(before) or pattern.match(after.lstrip()) or pattern.search(after[:4]))


# -- what shoppers say about products and earlier answers -------------------------

_NEGATIVE = re.compile(
    r"(don'?t like|do not like|not a fan|hate|ugly|bad|terrible|awful|disappointing|disappointed|not interested|"
    r"not what i wanted|too expensive|boring|不喜欢|讨厌|丑|不好|差|失望|不感兴趣|不是我想要|太贵|不考虑|不行|一般般)",
    re.IGNORECASE,
)
_STARS = re.compile(r"([1-5])\s*(?:stars?|/\s*5|out of 5|分|星|颗星)|([一二三四五])\s*(?:分|星|颗星)", re.IGNORECASE)
_CHEAPER = re.compile(r"(cheaper|less expensive|lower price|too expensive|便宜|太贵|实惠)", re.IGNORECASE)
_PRICIER = re.compile(r"(more expensive|pricier|premium|high[- ]end|better ones|higher budget|贵一点|贵点|高端|更好的)", re.IGNORECASE)
_LIGHTER = re.compile(r"(lighter|less heavy|too heavy|more portable|轻一点|轻点|轻一些|更轻|太重|轻便一点)", re.IGNORECASE)
_BIGGER_SCREEN = re.compile(r"((bigger|larger|bigger-screen) (screen|display)|screen (is )?too small|屏幕(再|更)?大一?(点|些)|屏幕更大|更大的屏|大一点的屏|屏幕太小)",
                            re.IGNORECASE)
_NEWER = re.compile(r"(newer|more recent|新一点|新一些|更新的|更新款|新款|较新)", re.IGNORECASE)
_OTHER_BRAND = re.compile(r"(another brand|different brand|other brands?|not this brand|换个牌子|换个品牌|换一个牌子|别的牌子|其他牌子|其他品牌|别的品牌)", re.IGNORECASE)


@dataclass(frozen=True)
class Feedback:
    """How the shopper feels: a star rating if they gave one, else positive or negative."""

    positive: bool
    stars: Optional[int] = None


def parse_feedback(text: str) -> Feedback:
    match = _STARS.search(text or "")
    if match:
        stars = int(match.group(1)) if match.group(1) else parse_chinese_number(match.group(2))
        return Feedback(positive=stars >= 4, stars=stars)
    return Feedback(positive=not _NEGATIVE.search(text or ""))


@dataclass(frozen=True)
class Refinement:
    """A correction of the last recommendation: "cheaper", "more premium", "another brand", "lighter",
    "bigger screen", "newer" (the last three are read against catalog specs by :mod:`actions.spec_refinement`)."""

    cheaper: bool = False
    pricier: bool = False
    other_brand: bool = False
    lighter: bool = False
    bigger_screen: bool = False
    newer: bool = False

    @property
    def by_spec(self) -> bool:
        return self.lighter or self.bigger_screen or self.newer

    @property
    def any(self) -> bool:
        return self.cheaper or self.pricier or self.other_brand or self.by_spec


def parse_refinement(text: str) -> Refinement:
    text = text or ""
    return Refinement(cheaper=bool(_CHEAPER.search(text)), pricier=bool(_PRICIER.search(text)) and not _CHEAPER.search(text),
                      other_brand=bool(_OTHER_BRAND.search(text)), lighter=bool(_LIGHTER.search(text)),
                      bigger_screen=bool(_BIGGER_SCREEN.search(text)), newer=bool(_NEWER.search(text)))


# -- kinds of accessory -------------------------------------------------------------

#: What shoppers call each ``accessory_type`` of the catalog ("stand" and "strap" have no products of their own:
#: a stand is a charger here, a strap is not stocked, so asking for one gets the nearest with a note).
_ACCESSORY_KINDS = {
    "screen_protector": r"screen protector|tempered glass|glass protector|贴膜|钢化膜|保护膜|屏幕膜|膜",
    "case": r"\bcases?\b|\bcover\b|bumper|手机壳|保护壳|保护套|壳|套",
    "charger": r"charger|charging|power adapter|adapter|\bstand\b|充电器|充电头|快充头|适配器|支架|充电",
    "cable": r"\bcables?\b|\bcords?\b|数据线|充电线|线",
    "power_bank": r"power ?bank|充电宝|移动电源",
    "memory_card": r"memory card|sd card|microsd|存储卡|内存卡|tf卡",
    "keyboard": r"keyboard|键盘",
    "mouse": r"\bmouse\b|\bmice\b|鼠标",
    "strap": r"\bstraps?\b|\bbands?\b|表带|腕带",
}
_ACCESSORY_PATTERNS = {kind: re.compile(pattern, re.IGNORECASE) for kind, pattern in _ACCESSORY_KINDS.items()}


def accessory_kind(text: str) -> Optional[str]:
    """The kind of accessory asked for ("case", "charger", "screen_protector", ...), or None for any kind.

    The first kind in the table that matches wins, so "screen protector" is not read as a case and
    "charging cable" is read as a charger only when no cable word follows: cables are checked by order.
    """
    text = text or ""
    if _ACCESSORY_PATTERNS["cable"].search(text) and not re.search(r"charger|充电器|充电头", text, re.IGNORECASE):
        return "cable"
    for kind, pattern in _ACCESSORY_PATTERNS.items():
        if pattern.search(text):
            return kind
    return None
