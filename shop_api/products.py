"""The catalog for a shop's pages: listing and search, one product, similar products, what fits it."""
from __future__ import annotations

from typing import List, Optional

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from sqlalchemy.exc import IntegrityError

from actions.messages import t
from actions.render import product_card, reason_text
from recsys import Product, QueryError, Recommender
from shop_api.errors import ApiError
from shop_api.responses import CompactJSONResponse
from shop_api.recommendations import MAX_K, language_of
from shop_api.auth import require_token
from shop_api.schemas import ProductCard, ProductIn, ProductOut, ProductPage
from shop_api.service import ranking_recommender, recommender

router = APIRouter(prefix="/v1/products", tags=["products"])
PRODUCT_ID = Path(..., max_length=128)


def _known(rec: Recommender, product_id: str) -> Product:
    """A product the shop sells now (a deleted one is 404 here, though shoppers' histories keep it)."""
    product = rec.product(product_id)
    if product is None or rec.is_deleted(product_id):
        raise ApiError(404, "not_found", f"unknown product id {product_id!r}", "product_id")
    return product


def _matches(product: Product, words: List[str]) -> bool:
    text = " ".join([product.name.get("en", ""), product.name.get("zh", ""), product.model, product.brand]).lower()
    return all(word in text for word in words)


@router.get("", response_model=ProductPage, summary="List and search the catalog")
def list_products(
    category: Optional[str] = Query(None, max_length=32), brand: Optional[str] = Query(None, max_length=64),
    q: Optional[str] = Query(None, max_length=200, description="words that must all appear in the name, model or brand"),
    min_price: Optional[float] = Query(None, ge=0), max_price: Optional[float] = Query(None, ge=0),
    in_stock: bool = Query(False), limit: int = Query(24, ge=1, le=100), offset: int = Query(0, ge=0, le=100_000),
    rec: Recommender = Depends(recommender),
) -> ProductPage:
    view = rec.live_catalog.sync()  # one read of the catalog's state for the whole listing
    catalog = view.catalog
    if category is not None and category not in catalog.aliases.categories:
        raise ApiError(422, "invalid", f"unknown category {category!r}", "category")
    if brand is not None and brand not in catalog.aliases.brands:
        raise ApiError(422, "invalid", f"unknown brand {brand!r}", "brand")
    mask = catalog.mask(category=category, brand=brand, min_price=min_price, max_price=max_price, in_stock_only=in_stock)
    words = (q or "").lower().split()
    found = [p for p, keep in zip(catalog.products, mask)
             if keep and not view.is_deleted(p.id) and (not words or _matches(p, words))]
    found.sort(key=lambda p: (-(p.rating or 0.0), p.price, p.id))
    page = found[offset:offset + limit]
    return ProductPage(total=len(found), offset=offset, products=[ProductOut(**p.to_record()) for p in page])


@router.get("/{product_id}", response_model=ProductOut, summary="One product")
def get_product(product_id: str = PRODUCT_ID, rec: Recommender = Depends(recommender)) -> ProductOut:
    return ProductOut(**_known(rec, product_id).to_record())


@router.put("/{product_id}", response_model=ProductOut, dependencies=[Depends(require_token)],
            summary="Add or change a product; recommendable at once, no retrain")
def put_product(body: ProductIn, product_id: str = PRODUCT_ID, rec: Recommender = Depends(recommender)) -> ProductOut:
    record = {**body.dict(), "id": product_id}
    try:
        product = rec.upsert_product(record)
    except QueryError as exc:
        raise ApiError(422, "invalid", str(exc), _field_named(str(exc))) from exc
    except IntegrityError as exc:  # another request stored the same new id at the same instant
        raise ApiError(409, "conflict", f"product {product_id!r} was being stored by another request; retry") from exc
    return ProductOut(**product.to_record())


@router.delete("/{product_id}", status_code=204, dependencies=[Depends(require_token)],
               summary="Withdraw a product: never recommended again, kept in shoppers' histories")
def delete_product(product_id: str = PRODUCT_ID, rec: Recommender = Depends(recommender)) -> Response:
    _known(rec, product_id)
    try:
        rec.delete_product(product_id)
    except QueryError as exc:
        raise ApiError(404, "not_found", str(exc), "product_id") from exc
    return Response(status_code=204)


def _field_named(message: str) -> Optional[str]:
    """The catalog validation names the field first ("price: must be positive")."""
    head = message.split(":", 1)[0].strip()
    return head if head and " " not in head else None


@router.get("/{product_id}/similar", response_model=List[ProductCard], summary="Products like this one")
async def similar(product_id: str = PRODUCT_ID, k: int = Query(5, ge=1, le=MAX_K), max_price: Optional[float] = Query(None, ge=0),
            lang: Optional[str] = Query(None), accept_language: Optional[str] = Header(None),
            rec: Recommender = Depends(ranking_recommender)):
    language = language_of(lang, accept_language)
    _known(rec, product_id)
    try:
        results = rec.similar(product_id, k=k, max_price=max_price)
    except QueryError as exc:
        raise ApiError(422, "invalid", str(exc)) from exc
    return CompactJSONResponse([product_card(r.product, reason_text(language, r.reason, rec.catalog), r.reason.code,
                                             language) for r in results])


@router.get("/{product_id}/accessories", response_model=List[ProductCard], summary="In-stock accessories that fit it")
async def accessories(product_id: str = PRODUCT_ID, k: int = Query(5, ge=1, le=MAX_K), lang: Optional[str] = Query(None),
                accept_language: Optional[str] = Header(None), rec: Recommender = Depends(ranking_recommender)):
    language = language_of(lang, accept_language)
    product = _known(rec, product_id)
    reason = t(language, "accessories.reason", name=product.display_name(language))
    return CompactJSONResponse([product_card(p, reason, "fits", language) for p in rec.accessories(product_id, k=k)])
