"""Products before their ids are final, and the id rules every listing source follows.

Ids are ``category-brand-model``; when several products of one source share that base, the
configuration (and, if still needed, finer details) is appended to all of them, so an id never
depends on row order. Products no detail tells apart are merged (the source says which one to
keep). A later source never renames an earlier source's products: its own ids get their
configuration appended instead.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

from catalog_build.common import RECORD_KEYS, Row, named, pseudo_stock


@dataclass(frozen=True)
class Qualifier:
    """One way to tell products with the same base id apart: an id part and a name label."""

    id_part: str
    label_en: str = ""
    label_zh: str = ""


@dataclass
class Draft:
    """A product before its id is final; ``qualifiers`` are tried in order on id collisions."""

    base_id: str
    qualifiers: Tuple[Qualifier, ...]
    fields: Dict[str, Any]
    name_en: Callable[[List[str]], str]
    name_zh: Callable[[List[str]], str]
    preference: Tuple[Any, ...]  # lower is better when identical products are merged
    id: str = ""
    level: int = 0  # how many qualifiers the id uses
    labels_en: List[str] = field(default_factory=list)
    labels_zh: List[str] = field(default_factory=list)
    origin: str = ""  # 'file:line' of the listing, for error messages


def assign_ids(drafts: List[Draft]) -> Tuple[List[Draft], int]:
    """Give every draft a unique id; merge drafts no qualifier can tell apart.

    All members of a colliding group get the same qualifier, so an id depends only on
    its siblings' data, never on row order. Returns the kept drafts and how many merged.
    """
    for draft in drafts:
        draft.id, draft.level, draft.labels_en, draft.labels_zh = draft.base_id, 0, [], []
    while True:
        groups: Dict[str, List[Draft]] = defaultdict(list)
        for draft in drafts:
            groups[draft.id].append(draft)
        changed = False
        for key in sorted(groups):
            members = groups[key]
            if len(members) < 2:
                continue
            start = max(m.level for m in members)
            depth = min(len(m.qualifiers) for m in members)
            for k in range(start, depth):
                if len({m.qualifiers[k].id_part for m in members}) > 1:
                    for m in members:
                        qualify(m, k)
                    changed = True
                    break
        if not changed:
            break
    kept: Dict[str, Draft] = {}
    for draft in drafts:
        best = kept.get(draft.id)
        if best is None or draft.preference < best.preference:
            kept[draft.id] = draft
    return sorted(kept.values(), key=lambda d: d.id), len(drafts) - len(kept)


def qualify(draft: Draft, k: int) -> None:
    """Append qualifier ``k`` to the draft's id and, if it has one, its label to the names."""
    q = draft.qualifiers[k]
    if q.id_part:
        draft.id = f"{draft.id}-{q.id_part}"
    if q.label_en:
        draft.labels_en.append(q.label_en)
        draft.labels_zh.append(q.label_zh or q.label_en)
    draft.level = k + 1


def claim_id(draft: Draft, taken: Mapping[str, Any]) -> bool:
    """Qualify a later source's draft until its id is free; False if it only repeats an earlier product.

    Earlier sources keep their ids, so adding a source never renames what is already there.
    """
    while draft.id in taken:
        if draft.level >= len(draft.qualifiers):
            return False
        qualify(draft, draft.level)
    return True


def finish(draft: Draft) -> Dict[str, Any]:
    """The catalog record of a draft whose id is final, with keys in schema order."""
    record = dict(draft.fields)
    record["id"] = draft.id
    record["name"] = {"en": draft.name_en(draft.labels_en), "zh": draft.name_zh(draft.labels_zh)}
    record["stock"] = pseudo_stock(draft.id)
    record["fits"] = []  # listed products fit nothing; curated accessories say what fits them
    return {key: record.get(key) for key in RECORD_KEYS}


def parse_rows(rows: Iterable[Tuple[str, Row]], parse: Callable[[Row], Optional[Draft]]) -> List[Draft]:
    """Drafts of ``(origin, row)`` pairs; a row its parser cannot read stops the build, named.

    A parser returns None for a row it skips on purpose (and counts why); any other failure
    means the source changed shape, which must not pass silently.
    """
    drafts: List[Draft] = []
    for origin, row in rows:
        with named(origin):
            draft = parse(row)
        if draft is not None:
            draft.origin = origin
            drafts.append(draft)
    return drafts
