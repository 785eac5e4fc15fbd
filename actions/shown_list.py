"""Questions about the list just shown: "which has the best battery?", "哪个最便宜", "which is the lightest?".

A salesperson answers from the products on the table, not with a new list: the answer names the
product and the spec in one message, and says which products lack the spec. The ranking itself is
the recommender's (:func:`recsys.feature_strength`); this module only reads the question.
"""
from __future__ import annotations

import re
from typing import List, Optional

from recsys import Feature, Product, feature_strength

from actions.base import Turn
from actions.messages import join, t
from actions.render import money, spec_value

_WHICH = re.compile(r"\b(which|what)\b.*\b(best|most|biggest|largest|longest|highest|lightest|cheapest|fastest|"
                    r"least expensive|most expensive|priciest|smallest)\b|哪(个|款|一个|一款|台|部)?.*(最|更)", re.IGNORECASE)
_CHEAPEST = re.compile(r"cheapest|least expensive|lowest price|最便宜|最实惠|价格最低", re.IGNORECASE)
_PRICIEST = re.compile(r"most expensive|priciest|最贵", re.IGNORECASE)
_LIGHTEST = re.compile(r"lightest|最轻", re.IGNORECASE)
_WEIGHT = Feature(id="weight", name={"en": "weight", "zh": "重量"}, specs=("weight_g",), aliases=())
_SUPERLATIVE = {"en": "best", "zh": "最好"}


def asks_about_shown(text: str) -> bool:
    """"Which one ... best/most ...", "哪个...最...": a question about the list, not a new request."""
    return bool(_WHICH.search(text or ""))


def answer_about_shown(turn: Turn) -> bool:
    """Answer a which-is-best question from the last list shown; False when the message is not one."""
    if not asks_about_shown(turn.text):
        return False
    shown = [p for p in (turn.recommender.product(pid) for pid in turn.tracker.get_slot("last_recommendations") or []) if p]
    if len(shown) < 2:
        return False
    language = turn.language
    if _CHEAPEST.search(turn.text) or _PRICIEST.search(turn.text):
        cheapest = bool(_CHEAPEST.search(turn.text))
        pick = (min if cheapest else max)(shown, key=lambda p: p.price)
        turn.say("list.cheapest" if cheapest else "list.priciest", name=pick.display_name(language), price=money(pick.price))
        return True
    feature = _WEIGHT if _LIGHTEST.search(turn.text) else asked_feature(turn)
    if feature is None:
        return False
    feature_name = feature.name.get(language) or feature.name["en"]
    spec, strength = feature_strength(shown, feature)
    if spec is None:
        turn.say("list.no_feature", feature=feature_name)
        return True
    best = max(range(len(shown)), key=lambda i: (strength[i] if strength[i] is not None else -1.0, -i))
    product = shown[best]
    text = t(language, "list.best", name=product.display_name(language), superlative=_SUPERLATIVE[language],
             feature=t(language, f"spec.{spec}"), value=spec_value(language, product.specs[spec]))
    unknown: List[Product] = [p for p, s in zip(shown, strength) if s is None]
    if unknown:
        text += " " + t(language, "list.unknown", feature=t(language, f"spec.{spec}"),
                        names=join(language, [p.display_name(language) for p in unknown]))
    turn.dispatcher.utter_message(text=text)
    return True


def asked_feature(turn: Turn) -> Optional[Feature]:
    """The feature the message asks about: an NLU entity first, else the feature table's reading of the text."""
    for value in turn.tracker.get_latest_entity_values("feature"):
        feature = turn.recommender.resolve_feature(str(value))
        if feature is not None:
            return feature
    found = turn.recommender.find_features(turn.text)
    return found[0] if found else None
