"""Shopper tokens: bound to one shopper, expiring, signed by this deployment only; and what one may send."""
from __future__ import annotations

import pytest

from shop_api.auth import BROWSING_TYPES, _check_browsing
from shop_api.errors import ApiError
from shop_api.shopper_tokens import (TOKEN_TTL_SECONDS, ShopperToken, ShopperTokenError, derive_key, is_shopper_id,
                                     mint, new_shopper_id, verify)

KEY = derive_key("the-api-token")
NOW = 1_800_000_000


def test_a_minted_token_names_its_shopper_until_it_expires():
    token, claims = mint(KEY, "shopper-42", now=NOW)
    assert claims == ShopperToken("shopper-42", NOW + TOKEN_TTL_SECONDS)
    assert verify(KEY, token, now=NOW + TOKEN_TTL_SECONDS - 1) == claims
    with pytest.raises(ShopperTokenError) as expired:
        verify(KEY, token, now=NOW + TOKEN_TTL_SECONDS)
    assert expired.value.expired
    # Within the renewal window an expired token still proves its shopper (to renew it, nothing else).
    assert verify(KEY, token, now=NOW + TOKEN_TTL_SECONDS + 60, grace=3600).shopper_id == "shopper-42"


def test_the_key_is_derived_and_differs_per_api_token():
    assert KEY != b"the-api-token" and len(KEY) == 32
    assert derive_key("another-api-token") != KEY
    token, _ = mint(derive_key("another-api-token"), "shopper-42", now=NOW)
    with pytest.raises(ShopperTokenError, match="signature"):
        verify(KEY, token, now=NOW)


def test_a_token_whose_shopper_or_expiry_was_changed_is_refused():
    token, _ = mint(KEY, "shopper-42", now=NOW)
    other, _ = mint(KEY, "shopper-43", now=NOW + 10 * TOKEN_TTL_SECONDS)
    # Another shopper's (or a later) payload under this token's signature: the signature no longer matches.
    forged = other.split(".")[0] + "." + token.split(".")[1]
    with pytest.raises(ShopperTokenError, match="signature"):
        verify(KEY, forged, now=NOW)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "!!.??", "x" * 600 + ".y", "e30.AAAA", 42])
def test_garbage_is_not_a_token(garbage):
    with pytest.raises(ShopperTokenError):
        verify(KEY, garbage, now=NOW)


def test_shopper_ids_are_pseudonymous_words():
    assert is_shopper_id(new_shopper_id()) and new_shopper_id() != new_shopper_id()
    for bad in ("", "a b", "me@example.com", "x" * 129, None, 7):
        assert not is_shopper_id(bad)
    with pytest.raises(ValueError):
        mint(KEY, "me@example.com")


SHOPPER = ShopperToken("s-1", NOW)


def refusal(events, batch=True):
    with pytest.raises(ApiError) as refused:
        _check_browsing(SHOPPER, events, batch)
    return refused.value.status, refused.value.field


def test_a_shopper_token_sends_its_own_browsing_events():
    _check_browsing(SHOPPER, [{"type": t, "user_id": "s-1", "product_id": "p"} for t in BROWSING_TYPES], True)
    _check_browsing(SHOPPER, [{"type": "view", "user_id": "s-1", "session_id": "s-1", "product_id": "p"}], True)


def test_a_shopper_token_refuses_other_shoppers_and_other_types_naming_the_field():
    good = {"type": "view", "user_id": "s-1", "product_id": "p"}
    assert refusal([good, {**good, "type": "purchase"}]) == (403, "events[1].type")
    assert refusal([{**good, "type": "rating", "value": 5}], batch=False) == (403, "type")
    assert refusal([{**good, "user_id": "s-2"}]) == (403, "events[0].user_id")
    assert refusal([{k: v for k, v in good.items() if k != "user_id"}]) == (403, "events[0].user_id")
    assert refusal([{**good, "session_id": "someone-else"}]) == (403, "events[0].session_id")
