"""The shapes shop developers send and receive; FastAPI turns them into the OpenAPI schema at /openapi.json."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional

from pydantic import BaseModel, Field

MAX_BATCH = 500


def _nullable(schema: Dict[str, Any], model: type) -> None:
    """Mark the fields that may be null as such (pydantic 1 leaves it out, FastAPI writes OpenAPI 3.1):
    without it the schema promises a string where the API answers ``null``, and clients generated from it break.
    ``anyOf`` with null, not ``type: [..., "null"]``, which FastAPI's own OpenAPI model refuses."""
    properties = schema.get("properties", {})
    for field in model.__fields__.values():  # type: ignore[attr-defined]
        prop = properties.get(field.alias)
        if not field.allow_none or not prop or "anyOf" in prop:
            continue
        docs = {key: prop.pop(key) for key in ("title", "description", "example", "default") if key in prop}
        properties[field.alias] = {"anyOf": [prop, {"type": "null"}], **docs}


class ApiModel(BaseModel):
    # Every shape of the API: its OpenAPI schema says which fields may be null. (No docstring: pydantic would
    # give it to every model without its own as the schema's description.)

    class Config:
        schema_extra = staticmethod(_nullable)


class ErrorDetail(ApiModel):
    code: str = Field(..., description="invalid, unauthorized, not_found, http_error, internal, ...")
    message: str
    field: Optional[str] = Field(None, description="The request field that is wrong, when one is")


class ErrorOut(ApiModel):
    """Every refusal (``shop_api.errors``): never a stack trace."""

    error: ErrorDetail


class EventIn(ApiModel):
    """One thing a shopper did on the shop's pages (or in the chat)."""

    event_id: Optional[str] = Field(None, description="Idempotency key: an event id seen before is stored once.",
                                    example="9b2f6c1e-view-1")
    user_id: Optional[str] = Field(None, description="Pseudonymous shopper id (never an e-mail or a name).", example="shopper-42")
    session_id: Optional[str] = Field(None, description="Browser session of a shopper not logged in; merged into "
                                      "user_id when a later event carries both.", example="s-7f3a")
    type: str = Field(..., description="view, cart, remove_from_cart, purchase, rating (with value 1-5) or dislike.",
                      example="view")
    product_id: str = Field(..., example="headphones-sony-wh-1000xm5")
    timestamp: Optional[datetime] = Field(None, description="When it happened (ISO 8601; default now; at most a day ahead).")
    value: Optional[float] = Field(None, description="The stars of a rating, 1-5.")
    recommendation_id: Optional[str] = Field(None, description="The list the click came from (from GET /v1/recommendations).")
    properties: Dict[str, Any] = Field(default_factory=dict, description="Anything else the shop wants kept (at most 4 KB).")


class EventBatch(ApiModel):
    events: List[EventIn] = Field(..., description=f"1 to {MAX_BATCH} events, stored in one transaction.")


class EventResult(ApiModel):
    index: int = Field(..., description="Position in the request (0 for a single event).")
    event_id: Optional[str]
    status: str = Field(..., description="stored, duplicate (this id was stored before) or rejected.")
    field: Optional[str] = Field(None, description="For a rejected event: the field that is wrong.")
    error: Optional[str] = None


class EventsResponse(ApiModel):
    stored: int
    duplicate: int
    rejected: int
    results: List[EventResult]


class ShopperSessionIn(ApiModel):
    shopper_id: Optional[str] = Field(None, description="Only with the API token (the shop's backend): the "
                                      "logged-in shopper to mint for. A browser leaves it out.", example="shopper-42")


class ShopperSession(ApiModel):
    """A shopper token: ``POST /v1/events`` with it takes only this shopper's view, cart, remove_from_cart
    and dislike events."""

    shopper_id: str = Field(..., description="The pseudonymous shopper the token is bound to: the page's and "
                            "the chat's id (user_id of its events, the socket.io session_id).")
    token: str = Field(..., description="Send as `Authorization: Bearer <token>`.")
    expires_at: str = Field(..., description="ISO 8601; ask again with the old token before then to renew it.")


class ProductCard(ApiModel):
    """A product as a list shows it, in the asked language, with why it is there."""

    id: str
    name: str
    brand: str
    category: str
    price: float
    currency: str
    rating: Optional[float]
    reason: str
    reason_code: str


class RecommendationsResponse(ApiModel):
    recommendation_id: str = Field(..., description="Send it back with the events of clicks on this list.")
    user_id: Optional[str]
    language: str
    products: List[ProductCard]


class ProductOut(ApiModel):
    """A catalog row as the catalog schema defines it (data/catalog/README)."""

    id: str
    category: str
    brand: str
    model: str
    name: Dict[str, str]
    price: float
    list_price: Optional[float]
    currency: str
    stock: int
    rating: Optional[float]
    review_count: Optional[int]
    release_year: Optional[int]
    specs: Dict[str, Any] = {}
    description: Optional[Any]
    selling_points: Optional[Dict[str, List[str]]]


class ProductPage(ApiModel):
    total: int
    offset: int
    products: List[ProductOut]


class StoredEventOut(ApiModel):
    timestamp: str
    type: str
    product_id: str
    value: Optional[float]


class ShopperData(ApiModel):
    user_id: str
    events: List[StoredEventOut]
    conversation_events: int = Field(..., description="Events of the shopper's chat kept in Rasa's tracker store.")


class Forgotten(ApiModel):
    user_id: str
    deleted_events: int
    deleted_conversation_events: int


class RetrainStatus(ApiModel):
    state: str = Field(..., description="idle, running, succeeded or failed")
    started_at: Optional[str]
    finished_at: Optional[str]
    n_events: Optional[int] = Field(None, description="Events in the snapshot it trains on")
    error: Optional[str] = Field(None, description="Why it failed; the old models keep serving")


class Health(ApiModel):
    status: str = Field(..., description="ok, or degraded when the database does not answer")
    database: bool
    models: Dict[str, float] = Field(..., description="Model name -> its weight in the blend")
    trained_at: str
    trained_on_events: int
    trained_on_shoppers: int
    loaded_at: str
    catalog_hash: str
    products: int
    deleted_products: int
    catalog_change: int = Field(..., description="The newest catalog change applied (0: none since the catalog file)")
    retrain: RetrainStatus


class ProductIn(ApiModel):
    """A catalog row (the schema of data/catalog/products.jsonl); checked again by the catalog's validation."""

    category: str
    brand: str
    model: str
    name: Dict[str, str] = Field(..., example={"en": "Acme Phone X", "zh": "Acme 手机 X"})
    price: float
    list_price: Optional[float]
    currency: str = "CNY"
    stock: int
    rating: Optional[float]
    review_count: Optional[int]
    release_year: Optional[int]
    specs: Dict[str, Any] = {}
    description: Optional[Dict[str, str]]
    selling_points: Dict[str, List[str]] = {}
    fits: List[str] = []
