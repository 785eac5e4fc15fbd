"""``action_compare_products``: two or three products side by side on the specs of their category."""
from __future__ import annotations

from dataclasses import replace
from typing import List, Optional, Text

from rasa_sdk.events import SlotSet

from recsys import Product, RecommendationQuery

from actions.base import ShopAction, Turn
from actions.references import referenced_products
from actions.parsing import parse_refinement
from actions.render import comparison
from actions.spec_refinement import CANDIDATES, SpecLimits, narrowed, spec_limits

MAX_COMPARED = 3


class ActionCompareProducts(ShopAction):
    def name(self) -> Text:
        return "action_compare_products"

    def respond(self, turn: Turn) -> None:
        products = referenced_products(turn.tracker, turn.recommender, limit=MAX_COMPARED)
        rival = self._rival_of_other_brand(turn, products)
        if rival is not None:  # "vs Sony", "和华为的比": the product in view against that brand's best match
            products = rival
        if len(products) < 2 and turn.tracker.get_slot("last_recommendations") and self._means_shown_list(turn):
            shown = [turn.recommender.product(pid) for pid in turn.tracker.get_slot("last_recommendations")[:MAX_COMPARED]]
            products = [p for p in shown if p is not None]
        if len(products) < 2:
            missing = [m for m in turn.tracker.get_latest_entity_values("product")
                       if turn.recommender.resolve_product(str(m)) is None]
            if missing:
                turn.say("error.unknown_product", what=str(missing[0]))
            else:
                turn.say("compare.need_two")
            return
        turn.show(*comparison(turn.language, turn.recommender.compare([p.id for p in products])))
        turn.events.append(SlotSet("last_product", products[0].id))

    @staticmethod
    def _means_shown_list(turn: Turn) -> bool:
        """"compare them", "这几个比较一下": no product named, so the list we just showed."""
        return not any(True for _ in turn.tracker.get_latest_entity_values("product"))

    @staticmethod
    def _rival_of_other_brand(turn: Turn, named: List[Product]) -> Optional[List[Product]]:
        """The product in view and the best match of the brand named, within the shopper's constraints.

        Only when the message names a brand but fewer than two products, and the brand is not the
        one in view: "和索尼的比一下" after Apple earbuds compares them with Sony's best within budget.
        """
        if len(named) >= 2:
            return None
        brands = turn.recommender.catalog.aliases.find_in_text("brand", turn.text)
        shown = [p for p in (turn.recommender.product(pid) for pid in turn.tracker.get_slot("last_recommendations") or []) if p]
        anchor = named[0] if named else (shown[0] if shown else None)
        if anchor is None or not brands or brands[0] == anchor.brand:
            return None
        same_category = turn.tracker.get_slot("category") == anchor.category
        max_price = turn.tracker.get_slot("max_price") if same_category else None
        refinement = parse_refinement(turn.text)
        if refinement.cheaper:  # "vs a cheaper Sony": cheaper than the one in view
            max_price = min(max_price, anchor.price - 1) if max_price is not None else anchor.price - 1
        limits = spec_limits(refinement, [anchor]) if refinement.by_spec else SpecLimits()  # "vs a lighter Sony"
        query = RecommendationQuery(user_id=turn.user_id, category=anchor.category, brand=brands[0],
                                    k=CANDIDATES if limits.any else 1,
                                    min_price=turn.tracker.get_slot("min_price") if same_category else None,
                                    max_price=max_price)
        found = [r.product for r in turn.recommender.recommend(query)]
        if not found and query.max_price is not None and not refinement.cheaper:
            # none within budget: the brand's best at any price
            found = [r.product for r in turn.recommender.recommend(replace(query, min_price=None, max_price=None))]
        if limits.any:
            found = narrowed(found, limits)
        return [anchor, found[0]] if found else None
