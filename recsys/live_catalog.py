"""Products changed while the shop runs: upserts and soft deletes, seen by every serving process.

The committed catalog file is where a deployment starts; the shop then adds
products, changes prices and stock, and withdraws products through the API.
Each change is one row of an append-only log (``catalog_changes``), written in
the same transaction as the ``products`` row the events table refers to. A
process keeps its in-memory :class:`~recsys.catalog.Catalog` for as long as the
log's newest sequence number stays the same (one primary-key lookup per
request, well under a millisecond); when it moved, the process replays only the
new rows. Every process replays the same log in the same order, so a new
product gets the same catalog position everywhere: positions never move, new
products go at the end, and a deleted product keeps its position (events still
point at it) but is never recommended again.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Dict, FrozenSet, List, Mapping, Optional

import numpy as np
from sqlalchemy import Column, DateTime, Integer, String, Table, Text, delete, func, insert, select, update

from recsys.catalog import Catalog, CatalogError, Product, check_record
from recsys.queries import QueryError
from recsys.store import Store, _product_row, links_table, metadata, products_table

UPSERT = "upsert"
DELETE = "delete"

changes_table = Table(
    "catalog_changes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("product_id", String(128), nullable=False, index=True),
    Column("action", String(8), nullable=False),
    # The full validated catalog row, as JSON (None for a delete).
    Column("record", Text),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    sqlite_autoincrement=True,
)

_NEWEST = select(func.max(changes_table.c.seq))


def validate_product(record: object, catalog: Catalog, product_id: Optional[str] = None) -> Product:
    """A catalog row checked as :meth:`Catalog.load` checks the file's rows; :class:`QueryError` naming the field.

    ``product_id`` (from the URL) must agree with the record's ``id`` when both are given.
    """
    if not isinstance(record, Mapping):
        raise QueryError("a product must be an object with the catalog's fields")
    record = dict(record)
    if product_id is not None:
        if record.setdefault("id", product_id) != product_id:
            raise QueryError(f"id: {record['id']!r} does not match the product id {product_id!r} it is stored under")
    try:
        checked = check_record(record)
    except CatalogError as exc:
        raise QueryError(str(exc)) from exc
    if checked.brand not in catalog.aliases.brands:
        raise QueryError(f"brand: {checked.brand!r} is not a known brand")
    unknown = [target for target in checked.fits if target not in catalog or target == checked.id]
    if unknown:
        raise QueryError(f"fits: unknown product ids {', '.join(unknown)}")
    return Product.from_record(checked)


@dataclass(frozen=True)
class CatalogView:
    """The catalog as one process serves it at one log position; never modified once built."""

    catalog: Catalog
    #: Positions withdrawn by a delete: masked out of every answer, kept for shoppers' histories.
    deleted: FrozenSet[int]
    #: The newest change applied (0: none).
    seq: int
    #: ``True`` where a product may be recommended (not deleted).
    live: np.ndarray = field(repr=False, default=None)

    def __post_init__(self) -> None:
        live = np.ones(len(self.catalog), dtype=bool)
        if self.deleted:
            live[list(self.deleted)] = False
        object.__setattr__(self, "live", live)

    def is_deleted(self, product_id: str) -> bool:
        position = self.catalog.index.get(product_id)
        return position is not None and position in self.deleted


class LiveCatalog:
    """This process's view of the catalog: the committed file plus the database's change log."""

    def __init__(self, base: Catalog, store: Store) -> None:
        self._base = base
        self._store = store
        self._lock = threading.Lock()
        self._products: List[Product] = list(base.products)
        self._deleted: Dict[str, bool] = {}
        self._view = CatalogView(base, frozenset(), 0)
        self.sync()
        self._restore_rows()

    @property
    def view(self) -> CatalogView:
        return self._view

    def newest(self) -> int:
        """The log's newest sequence number (0 for an empty log): the per-request check."""
        with self._store.engine.connect() as connection:
            return int(connection.execute(_NEWEST).scalar() or 0)

    def sync(self) -> CatalogView:
        """The view with every change committed by any process; rebuilt only when the log moved."""
        newest = self.newest()
        if newest == self._view.seq:
            return self._view
        with self._lock:
            if newest == self._view.seq:
                return self._view
            query = (select(changes_table.c.seq, changes_table.c.product_id, changes_table.c.action, changes_table.c.record)
                     .where(changes_table.c.seq > self._view.seq).order_by(changes_table.c.seq))
            with self._store.engine.connect() as connection:
                rows = connection.execute(query).fetchall()
            if not rows:
                return self._view
            index = {p.id: i for i, p in enumerate(self._products)}
            for _seq, product_id, action, record in rows:
                if action == UPSERT:
                    product = Product.from_record(check_record(json.loads(record)))
                    if product_id in index:
                        self._products[index[product_id]] = product
                    else:
                        index[product_id] = len(self._products)
                        self._products.append(product)
                    self._deleted.pop(product_id, None)
                elif product_id in index:
                    self._deleted[product_id] = True
            catalog = Catalog(self._products, self._base.aliases)
            deleted = frozenset(index[pid] for pid in self._deleted)
            self._view = CatalogView(catalog, deleted, int(rows[-1][0]))
            return self._view

    def _restore_rows(self) -> None:
        """Put back the ``products`` rows of logged products a re-import of the catalog file removed
        (events must be able to refer to every product the log serves)."""
        stored = set(self._store.product_ids())
        missing = [p for p in self._view.catalog.products if p.id not in stored]
        if missing:
            with self._store.engine.begin() as connection:
                connection.execute(insert(products_table), [_product_row(p) for p in missing])

    # -- writes ---------------------------------------------------------------------------------
    def upsert(self, record: object, product_id: Optional[str] = None) -> Product:
        """Validate and store a new or changed product; every process serves it from its next request.

        A deleted product stored again is back. A record equal to the one served writes nothing (a shop
        that re-sends its whole catalog does not make every process rebuild it).
        """
        view = self.sync()
        product = validate_product(record, view.catalog, product_id)
        if view.catalog.get(product.id) == product and not view.is_deleted(product.id):
            return product
        row = _product_row(product)
        with self._store.engine.begin() as connection:
            exists = connection.execute(select(products_table.c.id).where(products_table.c.id == product.id)).first()
            if exists:
                connection.execute(update(products_table).where(products_table.c.id == product.id).values(**row))
            else:
                connection.execute(insert(products_table).values(**row))
            connection.execute(delete(links_table).where(links_table.c.product_id == product.id))
            if product.fits:
                connection.execute(insert(links_table), [{"product_id": product.id, "fits_id": t, "kind": "fits"}
                                                         for t in product.fits])
            connection.execute(insert(changes_table).values(product_id=product.id, action=UPSERT, record=row["record"],
                                                            changed_at=datetime.now(timezone.utc)))
        self.sync()
        return product

    def delete(self, product_id: str) -> None:
        """Withdraw a product: never recommended again; its row stays so shoppers' events keep their product."""
        view = self.sync()
        if product_id not in view.catalog or view.is_deleted(product_id):
            raise QueryError(f"unknown product id {product_id!r}")
        with self._store.engine.begin() as connection:
            connection.execute(update(products_table).where(products_table.c.id == product_id).values(stock=0))
            connection.execute(insert(changes_table).values(product_id=product_id, action=DELETE, record=None,
                                                            changed_at=datetime.now(timezone.utc)))
        self.sync()

