"""Properties of the budget parser (issue 20): a budget comes only from money, never from names, markup or codes."""
from hypothesis import given, settings
from hypothesis import strategies as st

from actions.parsing import PriceRange, parse_budget

AMOUNTS = st.integers(min_value=100, max_value=200_000)
MODEL_PREFIXES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)


@given(st.text(max_size=80))
def test_any_text_parses_without_error(text):
    result = parse_budget(text)
    assert result is None or isinstance(result, PriceRange)


@given(AMOUNTS)
def test_an_upper_bound_in_either_language(amount):
    assert parse_budget(f"a phone under {amount}") == PriceRange(max_price=amount)
    assert parse_budget(f"{amount}元以内的手机") == PriceRange(max_price=amount)
    assert parse_budget(f"budget ¥{amount:,}") == PriceRange(max_price=amount)


@given(MODEL_PREFIXES, st.integers(min_value=1, max_value=99_999))
def test_a_model_name_is_not_a_budget(prefix, number):
    """"x1", "s23", "thinkpadx1", "rtx4090": digits glued to letters name a model."""
    assert parse_budget(f"联想{prefix}{number}怎么样") is None
    assert parse_budget(f"is the {prefix}{number} any good") is None


@given(st.integers(min_value=0, max_value=99_999), AMOUNTS)
def test_markup_and_code_carry_no_money(noise, amount):
    assert parse_budget(f"<script>alert({noise})</script> phone under {amount}") == PriceRange(max_price=amount)
    assert parse_budget(f"<b>{noise % 100}</b> {amount}元以内") == PriceRange(max_price=amount)
    assert parse_budget(f"order #{noise}") is None


@settings(max_examples=50)
@given(st.integers(min_value=1, max_value=100_000))
def test_a_negative_budget_is_implausible(amount):
    assert parse_budget(f"phone under -{amount}").implausible
    assert not parse_budget(f"phone under {amount + 100}").implausible
