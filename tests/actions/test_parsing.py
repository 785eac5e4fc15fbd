"""Budgets as shoppers write them."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from actions.parsing import PriceRange, parse_budget, parse_chinese_number


@pytest.mark.parametrize(
    "text, expected",
    [
        ("recommend me a phone under 3000", PriceRange(max_price=3000)),
        ("推荐一款3000元以内的手机", PriceRange(max_price=3000)),
        ("below 5k", PriceRange(max_price=5000)),
        ("3k以内", PriceRange(max_price=3000)),
        ("less than ¥2,999", PriceRange(max_price=2999)),
        ("２０００元以下", PriceRange(max_price=2000)),  # full-width digits
        ("max 6000 RMB", PriceRange(max_price=6000)),
        ("三千以内", PriceRange(max_price=3000)),
        ("不超过八千", PriceRange(max_price=8000)),
        ("1万以内", PriceRange(max_price=10000)),
        ("1.5w左右的笔记本", PriceRange(min_price=12000, max_price=18000)),
        ("预算4000", PriceRange(max_price=4000)),
        ("两千块", PriceRange(max_price=2000)),
        ("around 4000 yuan", PriceRange(min_price=3200, max_price=4800)),
        ("五千左右", PriceRange(min_price=4000, max_price=6000)),
        ("between 2000 and 4000", PriceRange(min_price=2000, max_price=4000)),
        ("3000 to 5000", PriceRange(min_price=3000, max_price=5000)),
        ("5k-8k", PriceRange(min_price=5000, max_price=8000)),
        ("2000到3000之间", PriceRange(min_price=2000, max_price=3000)),
        ("三千到五千", PriceRange(min_price=3000, max_price=5000)),
        ("over 3000", PriceRange(min_price=3000)),
        ("cable under 50", PriceRange(max_price=50)),
        ("iPhone 15 under 8000", PriceRange(max_price=8000)),
        ("6.7寸 手机 2000以下", PriceRange(max_price=2000)),
    ],
)
def test_budget_forms(text, expected):
    assert parse_budget(text) == expected


@pytest.mark.parametrize(
    "text",
    ["recommend me a phone", "推荐一款手机", "16GB ram laptop", "65W charger", "Galaxy S23", "pixel 8 price", "", "一个耳机", "🙂🙂🙂"],
)
def test_numbers_that_are_not_budgets(text):
    assert parse_budget(text) is None


@pytest.mark.parametrize(
    "text, value",
    [("十", 10), ("十五", 15), ("一百二", 120), ("三千", 3000), ("三千五", 3500), ("一千零五", 1005),
     ("一万", 10000), ("一万二", 12000), ("两万五千", 25000), ("八千八百八十八", 8888)],
)
def test_chinese_numerals(text, value):
    assert parse_chinese_number(text) == value


_DIGITS = "零一二三四五六七八九"


def to_chinese(n: int) -> str:
    """Reference formatter for the standard (non-colloquial) form, 1..99,999,999."""
    def below_10000(v: int) -> str:
        out, zero = "", False
        for unit_value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            digit = v // unit_value % 10
            if digit:
                if zero and out:
                    out += "零"
                out += _DIGITS[digit] + unit
                zero = False
            else:
                zero = True
        return out

    high, low = divmod(n, 10000)
    if not high:
        return below_10000(low)
    return below_10000(high) + "万" + (("零" if low < 1000 and low else "") + below_10000(low) if low else "")


@given(st.integers(min_value=1, max_value=99_999_999))
def test_chinese_numerals_round_trip(n):
    assert parse_chinese_number(to_chinese(n)) == n


@given(st.integers(min_value=100, max_value=10_000_000))
def test_any_arabic_budget_under(n):
    assert parse_budget(f"phone under {n}") == PriceRange(max_price=n)
    assert parse_budget(f"{n}元以内的手机") == PriceRange(max_price=n)
    assert parse_budget(f"under ¥{n:,}") == PriceRange(max_price=n)


@given(st.text(max_size=300))
def test_never_crashes_on_arbitrary_text(text):
    result = parse_budget(text)
    assert result is None or isinstance(result, PriceRange)
