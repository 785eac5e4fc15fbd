"""Turns the recommender's results into what the shopper sees.

One rendering serves every channel: plain text for ``rasa shell`` and a
``{"type": "products", ...}`` custom payload that web and REST clients draw as
product cards. Texts come from :mod:`actions.messages`, so nothing here is
written in one language only.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from recsys import Catalog, Product, Reason, Recommendation

from actions.messages import join, t


def money(value: float) -> str:
    return f"{value:,.0f}"


def category_name(language: str, category: Optional[str]) -> str:
    if category is None:
        return t(language, "recommend.any_category")
    return t(language, f"category.plural.{category}")


def category_list(language: str, categories: Sequence[str]) -> str:
    return join(language, [category_name(language, c) for c in categories])


def constraints_text(language: str, catalog: Catalog, brand: Optional[str], min_price: Optional[float], max_price: Optional[float]) -> str:
    """"from Apple under ¥3,000" / "3000元以内的苹果": each language orders the parts its own way."""
    parts = {"brand": "", "price": ""}
    if brand:
        parts["brand"] = t(language, "constraint.brand", brand=catalog.aliases.display("brand", brand, language))
    if min_price is not None and max_price is not None:
        parts["price"] = t(language, "constraint.between", min_price=money(min_price), max_price=money(max_price))
    elif max_price is not None:
        parts["price"] = t(language, "constraint.under", max_price=money(max_price))
    elif min_price is not None:
        parts["price"] = t(language, "constraint.over", min_price=money(min_price))
    return "".join(parts[name] for name in t(language, "constraint.order").split(","))


#: Reason codes that name one product of the shopper's history (``params["item"]``).
ITEM_REASONS = ("because_you_liked", "similar_to", "next_after")


def reason_text(language: str, reason: Reason, catalog: Catalog) -> str:
    params = reason.params
    if reason.code in ITEM_REASONS:
        anchor = catalog.get(str(params.get("item")))
        if anchor is not None:
            return t(language, f"reason.{reason.code}", item=anchor.display_name(language))
        return t(language, "reason.matches_your_taste")
    if reason.code == "matches_your_taste":
        return t(language, "reason.matches_your_taste")
    category = params.get("category")
    if category and params.get("max_price") is not None:
        return t(language, "reason.popular_category_budget", category=category_name(language, str(category)), max_price=money(float(params["max_price"])))
    if category:
        return t(language, "reason.popular_category", category=category_name(language, str(category)))
    return t(language, "reason.popular")


def product_card(product: Product, reason: str, reason_code: str, language: str) -> Dict[str, Any]:
    return {
        "id": product.id,
        "name": product.display_name(language),
        "brand": product.brand,
        "category": product.category,
        "price": product.price,
        "currency": product.currency,
        "rating": product.rating,
        "reason": reason,
        "reason_code": reason_code,
    }


def render_recommendations(
    recommendations: Sequence[Recommendation],
    catalog: Catalog,
    language: str,
    category: Optional[str],
    brand: Optional[str] = None,
    min_price: Optional[float] = None,
    max_price: Optional[float] = None,
) -> tuple[str, Dict[str, Any]]:
    """Text and custom payload for a list of recommendations."""
    personal = any(r.reason.code != "popular" for r in recommendations)
    intro = t(
        language,
        "recommend.intro_personal" if personal else "recommend.intro",
        count=len(recommendations),
        category=category_name(language, category),
        constraints=constraints_text(language, catalog, brand, min_price, max_price),
    )
    lines: List[str] = [intro]
    cards = []
    for rank, rec in enumerate(recommendations, start=1):
        reason = reason_text(language, rec.reason, catalog)
        rating = t(language, "recommend.rating", rating=f"{rec.product.rating:.1f}") if rec.product.rating is not None else ""
        lines.append(t(language, "recommend.item", rank=rank, name=rec.product.display_name(language), price=money(rec.product.price), rating=rating, reason=reason))
        cards.append(product_card(rec.product, reason, rec.reason.code, language))
    return "\n".join(lines), {"type": "products", "language": language, "products": cards}
