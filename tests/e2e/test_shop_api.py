"""The shop API against the running stack, with the chat beside it on the same database.

Events a shop sends change what both the API and the chat recommend; every bad input gets its 4xx and
changes nothing (the rows are counted in the database itself); forgetting empties both.
"""
from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.e2e.chat import products_in, say, texts_of

pytestmark = pytest.mark.e2e

ANC_HEADPHONES = ["headphones-sony-wh-1000xm5", "headphones-bose-quietcomfort-ultra-headphones",
                  "headphones-apple-airpods-pro-2-usb-c"]


def rows(workdir: Path, sql: str = "select count(*) from events", *args) -> int:
    with sqlite3.connect(workdir / "daogou.db") as connection:
        return connection.execute(sql, args).fetchone()[0]


def post(url: str, token: str, body, **kwargs) -> requests.Response:
    return requests.post(f"{url}/v1/events", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30, **kwargs)


def view(user_id: str, product_id: str, **extra) -> dict:
    return {"event_id": uuid.uuid4().hex, "user_id": user_id, "type": "view", "product_id": product_id, **extra}


def recommendations(url: str, **params) -> dict:
    response = requests.get(f"{url}/v1/recommendations", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_catalog_is_there(shop_api_url):
    for product_id in ANC_HEADPHONES:
        assert requests.get(f"{shop_api_url}/v1/products/{product_id}", timeout=30).status_code == 200


def test_three_noise_cancelling_headphones_viewed_lead_to_headphones_in_the_api_and_the_chat(shop_api_url, api_token, rasa_url, workdir):
    shopper = f"anc-{uuid.uuid4().hex[:8]}"
    response = post(shop_api_url, api_token, {"events": [view(shopper, p) for p in ANC_HEADPHONES]})
    assert response.status_code == 200 and response.json()["stored"] == 3, response.text
    listed = recommendations(shop_api_url, user_id=shopper, k=5)["products"]
    assert listed[0]["category"] == "headphones"
    assert sum(p["category"] == "headphones" for p in listed) >= 3
    assert not set(ANC_HEADPHONES) & {p["id"] for p in listed}  # what they saw is not shown again
    # The chat reads the same database: the same shopper asking there gets headphones first too.
    products = products_in(say(rasa_url, shopper, "what would you recommend for me?"))
    assert products[0]["category"] == "headphones", products


def test_after_a_purchase_the_item_is_gone_and_a_compatible_accessory_appears(shop_api_url, api_token, catalog):
    device, accessory = next((d, p.id) for p in catalog.products for d in p.fits)
    shopper = f"buyer-{uuid.uuid4().hex[:8]}"
    bought = {"event_id": uuid.uuid4().hex, "user_id": shopper, "type": "purchase", "product_id": device}
    assert post(shop_api_url, api_token, bought).json()["stored"] == 1
    listed = recommendations(shop_api_url, user_id=shopper, k=5)["products"]
    ids = [p["id"] for p in listed]
    assert device not in ids
    fitting = [p for p in listed if p["reason_code"] == "fits_purchase"]
    assert fitting and device in catalog.get(fitting[0]["id"]).fits, listed


def test_a_duplicate_event_id_is_stored_once(shop_api_url, api_token, workdir):
    event = view(f"dup-{uuid.uuid4().hex[:8]}", ANC_HEADPHONES[0])
    before = rows(workdir)
    first, second = post(shop_api_url, api_token, event), post(shop_api_url, api_token, event)
    assert first.json()["results"][0]["status"] == "stored"
    assert second.json()["results"][0]["status"] == "duplicate"
    assert rows(workdir) == before + 1
    assert rows(workdir, "select count(*) from events where event_id = ?", event["event_id"]) == 1


GOOD = {"user_id": "bad-input-shopper", "type": "view", "product_id": ANC_HEADPHONES[0]}
BAD_EVENTS = [
    ({**GOOD, "product_id": "no-such-product"}, "product_id"),
    ({**GOOD, "type": "teleport"}, "type"),
    ({**GOOD, "type": "rating", "value": 7}, "value"),
    ({**GOOD, "type": "rating", "value": 0}, "value"),
    ({**GOOD, "timestamp": "2099-01-01T00:00:00Z"}, "timestamp"),
    ({**GOOD, "timestamp": "yesterday-ish"}, "timestamp"),
    ({k: v for k, v in GOOD.items() if k != "user_id"}, "user_id"),
    ({k: v for k, v in GOOD.items() if k != "product_id"}, "product_id"),
    ({**GOOD, "properties": "not an object"}, "properties"),
]


@pytest.mark.parametrize("event, field", BAD_EVENTS)
def test_a_bad_event_gets_a_4xx_naming_the_field_and_changes_nothing(shop_api_url, api_token, workdir, event, field):
    before = rows(workdir)
    response = post(shop_api_url, api_token, event)
    assert response.status_code == 422, response.text
    assert response.json()["results"][0]["field"] == field
    assert rows(workdir) == before


@pytest.mark.parametrize("body, headers", [
    (b"{not json", {}),
    (b"", {}),
    (b'{"events": []}', {}),
    (b'{"events": "many"}', {}),
    (('{"events": [' + ",".join(['{"user_id": "u", "type": "view", "product_id": "x"}'] * 501) + "]}").encode(), {}),
])
def test_malformed_or_oversized_requests_get_a_4xx_and_change_nothing(shop_api_url, api_token, workdir, body, headers):
    before = rows(workdir)
    response = requests.post(f"{shop_api_url}/v1/events", data=body, timeout=30,
                             headers={"Authorization": f"Bearer {api_token}", "Content-Type": "application/json", **headers})
    assert 400 <= response.status_code < 500, response.text
    assert "error" in response.json() and "Traceback" not in response.text
    assert rows(workdir) == before


def test_in_a_batch_the_bad_event_is_named_and_the_good_ones_are_stored(shop_api_url, api_token, workdir):
    before = rows(workdir)
    batch = [view("batch-shopper", ANC_HEADPHONES[0]), {**GOOD, "type": "teleport"}, view("batch-shopper", ANC_HEADPHONES[1])]
    answer = post(shop_api_url, api_token, {"events": batch}).json()
    assert [r["status"] for r in answer["results"]] == ["stored", "rejected", "stored"]
    assert answer["results"][1]["field"] == "events[1].type"
    assert rows(workdir) == before + 2


@pytest.mark.parametrize("method, path", [
    ("post", "/v1/events"), ("get", "/v1/users/someone/data"), ("delete", "/v1/users/someone"), ("post", "/v1/admin/retrain"),
])
@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_writes_admin_and_shopper_data_need_the_token(shop_api_url, workdir, method, path, token):
    before = rows(workdir)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.request(method, f"{shop_api_url}{path}", json=view("someone", ANC_HEADPHONES[0]), headers=headers, timeout=30)
    assert response.status_code == 401, response.text
    assert rows(workdir) == before


def test_bad_query_parameters_are_named(shop_api_url):
    for params, field in [({"category": "spaceship"}, "category"), ({"k": 0}, "k"), ({"lang": "fr"}, "lang"),
                          ({"exclude": "no-such-product"}, "exclude"), ({"min_price": 500, "max_price": 100}, "min_price")]:
        response = requests.get(f"{shop_api_url}/v1/recommendations", params=params, timeout=30)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["error"]["field"] == field, (params, response.text)
    assert requests.get(f"{shop_api_url}/v1/products/no-such-product/similar", timeout=30).status_code == 404


def test_recommendations_keep_constraints_and_speak_the_language(shop_api_url):
    answer = recommendations(shop_api_url, category="phone", max_price=3000, k=5, lang="zh")
    assert answer["language"] == "zh" and answer["recommendation_id"]
    assert answer["products"] and all(p["category"] == "phone" and p["price"] <= 3000 for p in answer["products"])
    assert any("\u4e00" <= ch <= "\u9fff" for ch in answer["products"][0]["reason"])
    english = requests.get(f"{shop_api_url}/v1/recommendations", params={"category": "phone"},
                           headers={"Accept-Language": "en-GB,en;q=0.9"}, timeout=30).json()
    assert english["language"] == "en"


def test_a_session_merges_into_the_user_at_log_in(shop_api_url, api_token):
    session, user = f"s-{uuid.uuid4().hex[:8]}", f"u-{uuid.uuid4().hex[:8]}"
    post(shop_api_url, api_token, {"events": [{"session_id": session, "type": "view", "product_id": p} for p in ANC_HEADPHONES[:2]]})
    post(shop_api_url, api_token, {"user_id": user, "session_id": session, "type": "cart", "product_id": ANC_HEADPHONES[2]})
    data = requests.get(f"{shop_api_url}/v1/users/{user}/data", headers={"Authorization": f"Bearer {api_token}"}, timeout=30).json()
    assert [e["product_id"] for e in data["events"]] == ANC_HEADPHONES


def test_forgetting_through_the_api_empties_what_the_api_and_the_chat_know(shop_api_url, api_token, rasa_url, workdir):
    shopper = f"forget-{uuid.uuid4().hex[:8]}"
    auth = {"Authorization": f"Bearer {api_token}"}
    post(shop_api_url, api_token, view(shopper, ANC_HEADPHONES[0]))
    products_in(say(rasa_url, shopper, "recommend me a phone under 3000"))
    data = requests.get(f"{shop_api_url}/v1/users/{shopper}/data", headers=auth, timeout=30).json()
    assert data["events"] and data["conversation_events"] > 0
    gone = requests.delete(f"{shop_api_url}/v1/users/{shopper}", headers=auth, timeout=30).json()
    assert gone["deleted_events"] >= 1 and gone["deleted_conversation_events"] > 0
    assert rows(workdir, "select count(*) from events where user_id = ?", shopper) == 0
    data = requests.get(f"{shop_api_url}/v1/users/{shopper}/data", headers=auth, timeout=30).json()
    assert data == {"user_id": shopper, "events": [], "conversation_events": 0}
    # The chat has forgotten too: nothing recommended before, nothing stored.
    recall = texts_of(say(rasa_url, shopper, "what did you recommend?"))
    assert "haven't recommended" in recall, recall
    assert "no shopping activity stored" in texts_of(say(rasa_url, shopper, "what do you know about me"))


def test_health_says_what_serves(shop_api_url):
    health = requests.get(f"{shop_api_url}/v1/health", timeout=30).json()
    assert health["status"] == "ok" and health["database"] is True
    assert {"als", "content", "popularity"} <= set(health["models"])
    assert health["products"] > 2000 and health["trained_on_events"] > 0 and health["retrain"]["state"] in ("idle", "succeeded")


def test_the_openapi_schema_documents_every_endpoint(shop_api_url):
    schema = requests.get(f"{shop_api_url}/openapi.json", timeout=30).json()
    paths = set(schema["paths"])
    assert {"/v1/events", "/v1/recommendations", "/v1/products", "/v1/products/{product_id}/similar",
            "/v1/products/{product_id}/accessories", "/v1/users/{user_id}/data", "/v1/users/{user_id}",
            "/v1/admin/retrain", "/v1/health", "/v1/shopper-session"} <= paths
    assert {"EventIn", "EventBatch"} <= set(schema["components"]["schemas"])


def new_product(product_id: str) -> dict:
    return {"category": "headphones", "brand": "sony", "model": "WH-TEST", "price": 1999, "list_price": 2299,
            "currency": "CNY", "stock": 20, "rating": 4.8, "review_count": 10, "release_year": 2026,
            "name": {"en": "Sony WH-TEST noise cancelling headphones", "zh": "索尼 WH-TEST 降噪耳机"},
            "specs": {"anc": True, "wireless": True, "form": "over-ear", "battery_hours": 40},
            "description": {"en": "Over-ear noise cancelling headphones.", "zh": "头戴式降噪耳机。"},
            "selling_points": {"en": ["noise cancelling"], "zh": ["降噪"]}, "fits": []}


def test_a_product_added_by_put_is_similar_and_recommendable_and_a_deleted_one_never_returns(shop_api_url, api_token):
    auth = {"Authorization": f"Bearer {api_token}"}
    product_id = f"headphones-sony-wh-test-{uuid.uuid4().hex[:6]}"
    assert requests.put(f"{shop_api_url}/v1/products/{product_id}", json=new_product(product_id), timeout=30).status_code == 401
    response = requests.put(f"{shop_api_url}/v1/products/{product_id}", json=new_product(product_id), headers=auth, timeout=30)
    assert response.status_code == 200, response.text
    similar = requests.get(f"{shop_api_url}/v1/products/{ANC_HEADPHONES[0]}/similar", params={"k": 50}, timeout=30).json()
    assert product_id in [p["id"] for p in similar]
    own = requests.get(f"{shop_api_url}/v1/products/{product_id}/similar", params={"k": 5}, timeout=30).json()
    assert own and all(p["category"] == "headphones" for p in own)
    listed = recommendations(shop_api_url, category="headphones", brand="sony", min_price=1900, max_price=2100, k=5)["products"]
    assert product_id in [p["id"] for p in listed]
    # Withdrawn: never recommended again, but a shopper's history keeps it.
    shopper = f"hist-{uuid.uuid4().hex[:6]}"
    post(shop_api_url, api_token, view(shopper, product_id))
    assert requests.delete(f"{shop_api_url}/v1/products/{product_id}", headers=auth, timeout=30).status_code == 204
    listed = recommendations(shop_api_url, category="headphones", brand="sony", min_price=1900, max_price=2100, k=5)["products"]
    assert product_id not in [p["id"] for p in listed]
    similar = requests.get(f"{shop_api_url}/v1/products/{ANC_HEADPHONES[0]}/similar", params={"k": 50}, timeout=30).json()
    assert product_id not in [p["id"] for p in similar]
    history = requests.get(f"{shop_api_url}/v1/users/{shopper}/data", headers=auth, timeout=30).json()["events"]
    assert [e["product_id"] for e in history] == [product_id]
    assert requests.delete(f"{shop_api_url}/v1/products/{product_id}", headers=auth, timeout=30).status_code == 404


@pytest.mark.parametrize("change, field", [({"price": -5}, "price"), ({"category": "spaceship"}, "category"),
                                           ({"brand": "nobody"}, "brand"), ({"fits": ["no-such-product"]}, "fits")])
def test_a_bad_product_is_refused_naming_the_field_and_nothing_changes(shop_api_url, api_token, change, field):
    auth = {"Authorization": f"Bearer {api_token}"}
    product_id = f"headphones-bad-{uuid.uuid4().hex[:6]}"
    response = requests.put(f"{shop_api_url}/v1/products/{product_id}", json={**new_product(product_id), **change},
                            headers=auth, timeout=30)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["message"]
    assert requests.get(f"{shop_api_url}/v1/products/{product_id}", timeout=30).status_code == 404


# Shopper tokens: what the shop's page holds instead of the API token (shop_api/shopper_tokens.py, auth.py).

def shopper_session(url: str, token: str = None, **body) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(f"{url}/v1/shopper-session", json=body or None, headers=headers, timeout=30)


def stored_for(url: str, api_token: str, shopper: str) -> list:
    data = requests.get(f"{url}/v1/users/{shopper}/data", headers={"Authorization": f"Bearer {api_token}"}, timeout=30)
    return [(e["type"], e["product_id"]) for e in data.json()["events"]]


def test_a_shopper_token_stores_its_own_shoppers_browsing(shop_api_url, api_token):
    session = shopper_session(shop_api_url).json()
    shopper, token = session["shopper_id"], session["token"]
    assert shopper.startswith("s-") and session["expires_at"] > "2026"
    batch = [view(shopper, ANC_HEADPHONES[0]), {**view(shopper, ANC_HEADPHONES[1]), "type": "cart"},
             {**view(shopper, ANC_HEADPHONES[1]), "type": "remove_from_cart", "session_id": shopper}]
    response = post(shop_api_url, token, {"events": batch})
    assert response.status_code == 200 and response.json()["stored"] == 3, response.text
    assert stored_for(shop_api_url, api_token, shopper) == [("view", ANC_HEADPHONES[0]), ("cart", ANC_HEADPHONES[1]),
                                                             ("remove_from_cart", ANC_HEADPHONES[1])]
    # It opens nothing else: not the shopper's data, not the admin.
    assert requests.get(f"{shop_api_url}/v1/users/{shopper}/data", headers={"Authorization": f"Bearer {token}"},
                        timeout=30).status_code == 401
    # Renewing with it keeps the shopper; a new visitor gets another one.
    assert shopper_session(shop_api_url, token).json()["shopper_id"] == shopper
    assert shopper_session(shop_api_url).json()["shopper_id"] != shopper


def expired_token(api_token: str, shopper: str, days_ago: float) -> str:
    from shop_api.shopper_tokens import derive_key, mint
    return mint(derive_key(api_token), shopper, now=time.time() - days_ago * 86400)[0]


def refused_with(shop_api_url, workdir, token, body, status, field=None):
    before = rows(workdir)
    response = post(shop_api_url, token, body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field
    assert rows(workdir) == before
    return response.json()["error"]["message"]


def test_forged_expired_and_foreign_shopper_tokens_store_nothing(shop_api_url, api_token, workdir):
    me, token = (lambda s: (s["shopper_id"], s["token"]))(shopper_session(shop_api_url).json())
    other = shopper_session(shop_api_url).json()["shopper_id"]
    payload, signature = token.split(".")
    forged = shopper_session(shop_api_url).json()["token"].split(".")[0] + "." + signature  # another shopper's payload
    refused_with(shop_api_url, workdir, forged, view(me, ANC_HEADPHONES[0]), 401)
    refused_with(shop_api_url, workdir, payload + "." + signature[::-1], view(me, ANC_HEADPHONES[0]), 401)
    signed_elsewhere = expired_token("another-deployments-token", me, days_ago=0)
    refused_with(shop_api_url, workdir, signed_elsewhere, view(me, ANC_HEADPHONES[0]), 401)
    assert "expired" in refused_with(shop_api_url, workdir, expired_token(api_token, me, days_ago=2),
                                     view(me, ANC_HEADPHONES[0]), 401)
    # A valid token, but another shopper's events, or a purchase or a rating: 403 naming the field.
    refused_with(shop_api_url, workdir, token, view(other, ANC_HEADPHONES[0]), 403, "user_id")
    refused_with(shop_api_url, workdir, token, {**view(me, ANC_HEADPHONES[0]), "session_id": other}, 403, "session_id")
    refused_with(shop_api_url, workdir, token, {**view(me, ANC_HEADPHONES[0]), "type": "purchase"}, 403, "type")
    refused_with(shop_api_url, workdir, token, {"events": [view(me, ANC_HEADPHONES[0]),
                                                           {**view(me, ANC_HEADPHONES[1]), "type": "rating", "value": 5}]},
                 403, "events[1].type")
    assert stored_for(shop_api_url, api_token, me) == [] and stored_for(shop_api_url, api_token, other) == []


def test_only_the_shops_backend_chooses_the_shopper_of_a_token(shop_api_url, api_token):
    assert shopper_session(shop_api_url, shopper_id="shopper-42").status_code == 401
    minted = shopper_session(shop_api_url, api_token, shopper_id="shopper-42")
    assert minted.status_code == 200 and minted.json()["shopper_id"] == "shopper-42"
    bad = shopper_session(shop_api_url, api_token, shopper_id="me@example.com")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "shopper_id"
    # An expired token renews within 30 days, for the same shopper; an older one does not.
    assert shopper_session(shop_api_url, expired_token(api_token, "shopper-42", days_ago=3)).json()["shopper_id"] == "shopper-42"
    assert shopper_session(shop_api_url, expired_token(api_token, "shopper-42", days_ago=40)).status_code == 401
