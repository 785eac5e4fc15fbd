"""Turns the recommender's results into what the shopper sees.

One rendering serves every channel: plain text for ``rasa shell`` and a
``{"type": "products", ...}`` custom payload that web and REST clients draw as
product cards. Texts come from :mod:`actions.messages`, so nothing here is
written in one language only.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from recsys import KEY_SPECS, Catalog, Comparison, FeatureAnswer, Product, Reason, Recommendation

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
ITEM_REASONS = ("because_you_liked", "similar_to", "next_after", "fits_purchase")
#: Reasons that come from the shopper's own history (not "popular", not "stands out on what you asked for").
PERSONAL_REASONS = (*ITEM_REASONS, "matches_your_taste")


def reason_text(language: str, reason: Reason, catalog: Catalog) -> str:
    params = reason.params
    if reason.code in ITEM_REASONS:
        anchor = catalog.get(str(params.get("item")))
        if anchor is not None:
            return t(language, f"reason.{reason.code}", item=anchor.display_name(language))
        return t(language, "reason.matches_your_taste")
    if reason.code == "matches_your_taste":
        return t(language, "reason.matches_your_taste")
    if reason.code == "strong_feature":
        return t(language, "reason.strong_feature", spec=spec_line(language, str(params["spec"]), params["value"]))
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
    personal = any(r.reason.code in PERSONAL_REASONS for r in recommendations)
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


# -- single products, lists, specs and comparisons ---------------------------------

def rating_text(language: str, product: Product) -> str:
    return t(language, "recommend.rating", rating=f"{product.rating:.1f}") if product.rating is not None else ""


def spec_value(language: str, value: object) -> str:
    """A spec value as the shopper reads it: yes/no, numbers without trailing zeros, text as is."""
    if isinstance(value, bool):
        return t(language, "value.yes" if value else "value.no")
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def spec_line(language: str, spec: str, value: object) -> str:
    return t(language, "spec.line", label=t(language, f"spec.{spec}"), value=spec_value(language, value))


def key_specs(language: str, product: Product, limit: int = 6) -> str:
    """The specs that matter for the product's category, the ones it has."""
    keys = [k for k in KEY_SPECS.get(product.category, ()) if product.specs.get(k) not in (None, "")][:limit]
    return t(language, "list.separator").join(spec_line(language, k, product.specs[k]) for k in keys)


def product_list(language: str, products: Sequence[Product], intro: str, reason: str = "", reason_code: str = "") -> tuple[str, Dict[str, Any]]:
    """A numbered list of products and its card payload (similar items, accessories, recalled lists)."""
    lines = [intro]
    cards = []
    for rank, product in enumerate(products, start=1):
        lines.append(t(language, "list.item", rank=rank, name=product.display_name(language), price=money(product.price),
                       rating=rating_text(language, product)))
        cards.append(product_card(product, reason, reason_code, language))
    return "\n".join(lines), {"type": "products", "language": language, "products": cards}


def product_details(language: str, product: Product) -> tuple[str, Dict[str, Any]]:
    """Everything worth saying about one product, and one card."""
    stock = t(language, "info.in_stock" if product.in_stock else "info.out_of_stock")
    lines = [t(language, "info.header", name=product.display_name(language), price=money(product.price),
               rating=rating_text(language, product), stock=stock)]
    specs = key_specs(language, product)
    if specs:
        lines.append(t(language, "info.specs", specs=specs))
    points = list(product.selling_points.get(language) or [])[:4]
    if points:
        lines.append(t(language, "info.highlights", points=t(language, "list.separator").join(points)))
    description = product.description.get(language) if product.description else None
    if description:
        lines.append(description)
    return "\n".join(lines), {"type": "products", "language": language, "products": [product_card(product, "", "details", language)]}


def feature_answer(language: str, answer: FeatureAnswer) -> str:
    """"Yes, X has NFC." / "X's battery life: 5000 mAh." / "I don't have that detail"."""
    name = answer.product.display_name(language)
    feature = answer.feature.name.get(language) or answer.feature.name["en"]
    if not answer.known:
        return t(language, "info.feature_unknown", name=name, feature=feature)
    if len(answer.values) == 1 and isinstance(answer.values[0][1], bool):
        return t(language, "info.feature_yes" if answer.values[0][1] else "info.feature_no", name=name, feature=feature)
    values = t(language, "list.separator").join(spec_line(language, k, v) for k, v in answer.values)
    return t(language, "info.feature_values", name=name, feature=feature, values=values)


def comparison(language: str, result: Comparison) -> tuple[str, Dict[str, Any]]:
    """Side by side: one line per spec, the products' values in the order they were named."""
    products = result.products
    names = [p.display_name(language) for p in products]
    lines = [t(language, "compare.header", names=join(language, names))]
    separator = " | "
    lines.append(t(language, "spec.line", label=t(language, "compare.price"), value=separator.join(f"¥{money(p.price)}" for p in products)))
    if any(p.rating is not None for p in products):
        lines.append(t(language, "spec.line", label=t(language, "compare.rating"),
                       value=separator.join(f"{p.rating:.1f}" if p.rating is not None else "–" for p in products)))
    rows = []
    for spec in result.specs:
        values = [p.specs.get(spec) for p in products]
        rows.append({"spec": spec, "label": t(language, f"spec.{spec}"), "values": [None if v is None else spec_value(language, v) for v in values]})
        lines.append(t(language, "spec.line", label=t(language, f"spec.{spec}"),
                       value=separator.join("–" if v is None else spec_value(language, v) for v in values)))
    if len({p.category for p in products}) > 1:
        lines.append(t(language, "compare.mixed_categories"))
    payload = {"type": "comparison", "language": language, "products": [product_card(p, "", "compare", language) for p in products], "rows": rows}
    return "\n".join(lines), payload
