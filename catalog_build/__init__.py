"""Build Daogou's product catalog from real listings: ``python -m catalog_build`` (or ``make catalog``).

Writes the two files every other part of the project reads:

- ``data/catalog/products.jsonl``: one product per line, sorted by id, prices in CNY, each
  record valid as a :class:`recsys.catalog.ProductRecord`;
- ``data/catalog/aliases.yml``: the alias table, generated from ``data/catalog/taxonomy.yml``
  (the one list of categories and brands with their English and Chinese names).

One module per source, each turning rows into drafts (products whose ids are not final yet):
``india_phones`` (``smartphones_india.csv``, INR), ``eu_laptops`` (``laptops_europe.csv``, EUR),
``jd_phones`` (``jd_phones_zh.jsonl``, Chinese titles, CNY) and ``curated`` (hand-written
``data/catalog/curated/<category>.yml``). ``phones`` holds what both phone sources share,
``drafts`` the id rules, ``common`` rates and normalisation, ``build`` the orchestration.

The listings are read from ``$DAOGOU_DATASETS/catalogs``, else ``../shared/datasets/catalogs``
beside the project. The build is deterministic: the same sources give byte-identical files. A row
that cannot become a valid product stops it with a :class:`BuildError` naming the file and line.
"""
from catalog_build.build import CatalogBuild, build_catalog, default_source
from catalog_build.common import BuildError

__all__ = ["BuildError", "CatalogBuild", "build_catalog", "default_source"]
