"""The actions' texts, one YAML file per language in ``actions/locale/``."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Dict, Sequence

import yaml

from daogou_nlu.language_detection import SUPPORTED
from recsys import load_taxonomy

LOCALE_DIR = Path(__file__).resolve().parent / "locale"


@lru_cache(maxsize=None)
def catalog(language: str) -> Dict[str, str]:
    texts = yaml.safe_load((LOCALE_DIR / f"{language}.yml").read_text(encoding="utf-8"))
    # Category names live with the category list (data/catalog/taxonomy.yml), not in each locale file.
    texts.update({f"category.plural.{c.id}": c.plural[language] for c in load_taxonomy().categories.values()})
    return texts


def t(language: str, key: str, **params: object) -> str:
    """Text for ``key`` in ``language`` (English if the language is unsupported)."""
    language = language if language in SUPPORTED else "en"
    return catalog(language)[key].format(**params)


def join(language: str, items: Sequence[str]) -> str:
    """"a, b and c" / "a、b和c"."""
    if len(items) <= 1:
        return "".join(items)
    return t(language, "list.separator").join(items[:-1]) + t(language, "list.last_separator") + items[-1]
