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
        ("四五千", PriceRange(min_price=4000, max_price=5000)),  # neighbouring digits: a colloquial range
        ("三四千的笔记本", PriceRange(min_price=3000, max_price=4000)),
        ("一两万", PriceRange(min_price=10000, max_price=20000)),
        ("5000-8000", PriceRange(min_price=5000, max_price=8000)),
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


# -- positions, feedback and corrections ---------------------------------------------

from actions.parsing import parse_feedback, parse_refinement  # noqa: E402
from actions.references import ordinals  # noqa: E402


@pytest.mark.parametrize(
    "text, available, expected",
    [
        ("tell me more about the second one", 5, [1]),
        ("compare the first and the third", 5, [0, 2]),
        ("compare the first two", 5, [0, 1]),
        ("number 3 please", 5, [2]),
        ("the last one", 4, [3]),
        ("第二个多少钱", 5, [1]),
        ("第一款和第三款哪个更好", 5, [0, 2]),
        ("前两个对比一下", 5, [0, 1]),
        ("最后一个", 3, [2]),
        ("the fifth one", 3, []),
        ("recommend me a phone", 5, []),
    ],
)
def test_ordinals(text, available, expected):
    assert ordinals(text, available) == expected


@pytest.mark.parametrize(
    "text, positive, stars",
    [("I love it", True, None), ("I don't like the first one", False, None), ("给它打4分", True, 4),
     ("2 stars for the Xiaomi 14", False, 2), ("第三个太丑了", False, None), ("这个挺好的", True, None), ("五星", True, 5)],
)
def test_feedback(text, positive, stars):
    feedback = parse_feedback(text)
    assert (feedback.positive, feedback.stars) == (positive, stars)


@pytest.mark.parametrize(
    "text, cheaper, pricier, other_brand",
    [("something cheaper", True, False, False), ("太贵了，便宜一点", True, False, False), ("来点高端的", False, True, False),
     ("换个牌子", False, False, True), ("another brand please", False, False, True), ("recommend a phone", False, False, False)],
)
def test_refinements(text, cheaper, pricier, other_brand):
    refinement = parse_refinement(text)
    assert (refinement.cheaper, refinement.pricier, refinement.other_brand) == (cheaper, pricier, other_brand)
