"""What is kept about a shopper, and forgetting them: the chat's "show my data" / "forget me" over HTTP.

The recommender part is the same call the chat makes (:meth:`recsys.Recommender.shopper_data`,
:meth:`~recsys.Recommender.forget`); the conversation is erased with the statement the chat's
tracker store uses (:mod:`daogou_server.conversations`).
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request

from daogou_server.conversations import conversation_size, erase_conversation
from recsys import Recommender
from shop_api.auth import require_token
from shop_api.schemas import Forgotten, ShopperData, StoredEventOut
from shop_api.service import recommender

router = APIRouter(prefix="/v1/users", tags=["shoppers"], dependencies=[Depends(require_token)])
USER_ID = Path(..., min_length=1, max_length=128)


@router.get("/{user_id}/data", response_model=ShopperData, summary="Everything stored about a shopper")
def shopper_data(request: Request, user_id: str = USER_ID, rec: Recommender = Depends(recommender)) -> ShopperData:
    events = [StoredEventOut(timestamp=e.timestamp, type=e.event_type, product_id=e.product.id, value=e.value)
              for e in rec.shopper_data(user_id)]
    return ShopperData(user_id=user_id, events=events,
                       conversation_events=conversation_size(request.app.state.config.tracker_db_url, user_id))


@router.delete("/{user_id}", response_model=Forgotten, summary="Forget a shopper: events and conversation")
def forget(request: Request, user_id: str = USER_ID, rec: Recommender = Depends(recommender)) -> Forgotten:
    deleted = rec.forget(user_id)
    conversation = erase_conversation(request.app.state.config.tracker_db_url, user_id)
    return Forgotten(user_id=user_id, deleted_events=deleted, deleted_conversation_events=conversation)
