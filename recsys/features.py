"""What products are, as features: the input of content models.

Interaction models know nothing about a product nobody has touched; these
features let such a product be recommended and found "similar" on day one.
Words come from both languages (Chinese as character n-grams, since it has no
spaces), plus tokens for category, brand, price band and every spec value.
"""
from __future__ import annotations

import math
from typing import List

import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from recsys.catalog import Catalog, Product


def attribute_tokens(product: Product) -> str:
    """Category, brand, a price band (by factors of 1.5) and each spec as one token."""
    tokens = [f"category_{product.category}", f"brand_{product.brand}", f"priceband_{int(math.log(product.price, 1.5))}"]
    for key, value in sorted(product.specs.items()):
        if isinstance(value, float):
            value = f"{value:.2g}"
        tokens.append(f"{key}_{value}".lower().replace(" ", "_"))
    return " ".join(tokens)


def english_text(product: Product) -> str:
    return " ".join([product.name.get("en", ""), product.description.get("en", ""), *product.selling_points.get("en", [])])


def chinese_text(product: Product) -> str:
    return " ".join([product.name.get("zh", ""), product.description.get("zh", ""), *product.selling_points.get("zh", [])])


def item_feature_matrix(catalog: Catalog) -> sp.csr_matrix:
    """Items x features, TF-IDF weighted, in the catalog's item order."""
    products: List[Product] = catalog.products
    blocks = [
        TfidfVectorizer(token_pattern=r"\S+", lowercase=True).fit_transform([attribute_tokens(p) for p in products]),
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit_transform([english_text(p) for p in products]),
        TfidfVectorizer(analyzer="char", ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit_transform([chinese_text(p) for p in products]),
    ]
    return sp.hstack(blocks, format="csr")
