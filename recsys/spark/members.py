"""The collaborative members fitted by Spark, returned as the project's own model objects.

Each function mirrors one single-machine ``fit`` (ALS: :class:`~recsys.models.ALSModel`,
item co-occurrence: :class:`~recsys.models.neighbours.ItemKNNModel`, popularity:
:class:`~recsys.models.PopularityModel`) on a DataFrame of aggregated (user, item) pairs, and
fills the same arrays, so ``save`` writes exactly the files ``load`` reads. Only the learned
arrays come back to the driver: factors (users x rank), a sparse similarity, one score per item.
"""
from __future__ import annotations

import math
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Dict, Optional

import numpy as np
import pyarrow.parquet as pq
import scipy.sparse as sp

from recsys.events import EVENT_TYPES, EVENT_WEIGHTS
from recsys.export import SNAPSHOT_SCHEMA, EventSnapshot, SnapshotError
from recsys.models import ALSModel, PopularityModel
from recsys.models.neighbours import ItemKNNModel, keep_top_per_row

#: Members Spark fits; the others (content, sequence models) train on one machine.
SPARK_MEMBERS = ("als", "item_knn", "popularity")


def read_events(spark, snapshot: EventSnapshot):
    """The snapshot's events, checked row by row: the first bad row stops training, named by its id."""
    from pyspark.sql import functions as F

    from pyspark.errors import PySparkException

    try:
        events = spark.read.parquet(str(snapshot.path))
    except PySparkException as exc:  # unreadable files, a type Spark does not take
        raise SnapshotError(f"{snapshot.path}: cannot read the event snapshot: {str(exc).splitlines()[0]}") from None
    expected = {field.name: field.type for field in SNAPSHOT_SCHEMA}
    missing = sorted(set(expected) - set(events.columns))
    if missing:
        raise SnapshotError(f"{snapshot.path}: event snapshot lacks columns {', '.join(missing)}")
    n_users, n_items = snapshot.manifest.n_users, snapshot.manifest.n_items
    bad = (
        F.col("row").isNull() | F.col("timestamp").isNull() | F.col("event_type").isNull()
        | F.col("user").isNull() | (F.col("user") < 0) | (F.col("user") >= n_users)
        | F.col("item").isNull() | (F.col("item") < 0) | (F.col("item") >= n_items)
        | ~F.col("event_type").isin(*EVENT_TYPES)
        | ((F.col("event_type") == "rating") & (F.col("value").isNull() | F.isnan("value")))
    )
    first = events.where(bad).orderBy("row").limit(1).collect()
    if first:
        row = first[0].asDict()
        raise SnapshotError(f"{snapshot.path}: event row {row.get('row')} is malformed or names an unknown "
                            f"shopper/product (user={row.get('user')}, item={row.get('item')} of {n_items} products, "
                            f"event_type={row.get('event_type')!r}, value={row.get('value')}); nothing was trained")
    return events


def aggregate_pairs(events):
    """(user, item, weight, age) per pair with a positive summed weight, as ``Interactions.from_events``.

    ``weight`` sums :data:`~recsys.events.EVENT_WEIGHTS` (ratings via ``rating_weight``: 5, 4, 3 -> 5, 4, 1,
    below 0; half-to-even rounding as Python's); ``age`` is days from the pair's latest event to the log's newest.
    """
    from pyspark.sql import functions as F

    weight = F.lit(0.0)
    for kind, value in EVENT_WEIGHTS.items():
        if kind != "rating":
            weight = F.when(F.col("event_type") == kind, F.lit(float(value))).otherwise(weight)
    stars = F.bround(F.col("value"), 0)
    rating = (F.when(stars == 5, 5.0).when(stars == 4, 4.0).when(stars == 3, 1.0).otherwise(0.0))
    weight = F.when(F.col("event_type") == "rating", rating).otherwise(weight)
    newest = events.agg(F.max("timestamp")).first()[0]
    seconds = F.unix_micros(F.lit(newest)) - F.unix_micros(F.col("timestamp"))
    pairs = (events.select("user", "item", weight.alias("weight"), (seconds / 86_400e6).alias("age"))
             .groupBy("user", "item").agg(F.sum("weight").cast("float").alias("weight"), F.min("age").alias("age")))
    return pairs.where(F.col("weight") > 0)


class Handoff:
    """Brings a result DataFrame to the driver as numpy columns, through Parquet files.

    ``toPandas``/``toArrow`` would need pandas >= 2.2 and pyarrow >= 18, which Rasa's pins rule
    out, and ``collect`` makes one Python object per row; Spark writes Parquet in parallel and
    pyarrow reads it back at disk speed. ``directory`` must be one the driver can read: a temporary
    folder in ``local[*]`` mode, a shared mount on a cluster (see docs/scale.md).
    """

    def __init__(self, directory: Optional[Path] = None) -> None:
        self.owned = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="daogou-spark-"))

    def columns(self, frame, names) -> Dict[str, np.ndarray]:
        path = self.directory / uuid.uuid4().hex
        frame.select(*names).write.parquet(str(path))
        try:
            table = pq.read_table(str(path), columns=list(names))
            return {name: table.column(name).to_numpy() for name in names if name != "features"} | (
                {"features": np.array(table.column("features").to_pylist(), dtype=np.float32)} if "features" in names else {})
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        if self.owned:
            shutil.rmtree(self.directory, ignore_errors=True)


def _factors(handoff: Handoff, frame, n_rows: int, rank: int) -> np.ndarray:
    """An (id, features) factor DataFrame as rows in id order; ids Spark never saw stay zero."""
    columns = handoff.columns(frame, ("id", "features"))
    out = np.zeros((n_rows, rank), dtype=np.float32)
    if len(columns["id"]):
        out[columns["id"]] = columns["features"].reshape(len(columns["id"]), rank)
    return out


def fit_als(pairs, model: ALSModel, n_users: int, n_items: int, handoff: Handoff) -> ALSModel:
    """MLlib's implicit ALS with the model's rank, regularisation, iterations and confidences.

    The two libraries write the confidence of an observed pair differently: ``implicit`` (and
    :class:`~recsys.models.ALSModel`'s fold-in) ``c = alpha * r``, MLlib ``c = 1 + alpha' * r'``. MLlib is
    given ``alpha' = 1`` and ``r' = alpha * r - 1``, so every pair weighs exactly what it weighs in the
    default engine (on 0/1 data that is simply ``alpha' = alpha - 1``). ``r'`` must stay positive (MLlib
    reads a non-positive rating as a dislike): event weights are at least 1, so ``alpha`` must exceed 1.
    What MLlib does not let us change: it scales the regularisation by each row's rating count (ALS-WR),
    and it starts from unit-norm Gaussian factors (``implicit``: uniform in [0, 0.01)).
    """
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F

    if model.alpha <= 1.0:
        raise ValueError(f"Spark's ALS needs alpha > 1 to weigh pairs as implicit does (got {model.alpha})")
    als = ALS(rank=model.factors, maxIter=model.iterations, regParam=model.regularization, alpha=1.0,
              implicitPrefs=True, userCol="user", itemCol="item", ratingCol="confidence", seed=model.random_state,
              coldStartStrategy="drop")
    fitted = als.fit(pairs.select("user", "item", (F.col("weight") * model.alpha - 1.0).alias("confidence")))
    model._set_factors(_factors(handoff, fitted.userFactors, n_users, model.factors),
                       _factors(handoff, fitted.itemFactors, n_items, model.factors))
    return model


def fit_item_knn(pairs, model: ItemKNNModel, n_users: int, n_items: int, handoff: Handoff) -> ItemKNNModel:
    """Item co-occurrence ``S = W^T W`` by a self-join on the shopper, weighted as the model weights it.

    ``bm25``: each pair's weight damped by the shopper's history length and scaled by the item's IDF
    (``RowWeighting``'s formula); ``cosine``: co-occurrence of unit-length item columns.
    """
    from pyspark.sql import functions as F

    if model.similarity == "bm25":
        frequency = pairs.groupBy("item").agg(F.count("*").alias("df"))
        lengths = pairs.groupBy("user").agg(F.sum("weight").alias("length"))
        total = pairs.agg(F.sum("weight")).first()[0] or 0.0
        average = total / n_users if n_users and total > 0 else 1.0
        norm = (1.0 - model.b) + model.b * F.col("length") / F.lit(average)
        idf = F.lit(math.log(max(n_users, 1))) - F.log1p(F.col("df"))
        weighted = (pairs.join(frequency, "item").join(lengths, "user")
                    .select("user", "item", (F.col("weight") * (model.k1 + 1.0) / (model.k1 * norm + F.col("weight"))
                                             * idf).alias("w")))
    else:
        norms = pairs.groupBy("item").agg(F.sqrt(F.sum(F.col("weight") * F.col("weight"))).alias("norm"))
        weighted = pairs.join(norms, "item").select("user", "item", (F.col("weight") / F.col("norm")).alias("w"))
    left, right = weighted.alias("a"), weighted.alias("b")
    similarity = (left.join(right, F.col("a.user") == F.col("b.user"))
                  .where(F.col("a.item") != F.col("b.item"))
                  .groupBy(F.col("a.item").alias("i"), F.col("b.item").alias("j"))
                  .agg(F.sum(F.col("a.w") * F.col("b.w")).cast("float").alias("s")))
    if model.neighbours > 0:
        from pyspark.sql.window import Window

        rank = F.row_number().over(Window.partitionBy("i").orderBy(F.col("s").desc()))
        similarity = similarity.where(F.col("s") != 0).withColumn("r", rank).where(F.col("r") <= model.neighbours)
    table = handoff.columns(similarity, ("i", "j", "s"))
    matrix = sp.csr_matrix((table["s"].astype(np.float32), (table["i"], table["j"])),
                           shape=(n_items, n_items), dtype=np.float32)
    model.n_items = n_items
    model.matrix = keep_top_per_row(matrix, model.neighbours)
    return model


def fit_popularity(pairs, model: PopularityModel, n_items: int, handoff: Handoff) -> PopularityModel:
    """Per item, the sum over shoppers of ``0.5 ** (age / half_life_days)``."""
    from pyspark.sql import functions as F

    decay = F.pow(F.lit(0.5), F.col("age") / F.lit(model.half_life_days))
    table = handoff.columns(pairs.groupBy("item").agg(F.sum(decay).alias("score")), ("item", "score"))
    scores = np.zeros(n_items, dtype=np.float64)
    scores[table["item"]] = table["score"]
    model.n_items, model.item_scores = n_items, scores
    return model


def fit_members(spark, snapshot: EventSnapshot, models: Dict[str, object],
                handoff_dir: Optional[Path] = None) -> Dict[str, object]:
    """Fit each of ``models`` (fresh members named in :data:`SPARK_MEMBERS`) on the snapshot; returns them.

    ``handoff_dir``: where results pass to the driver (:class:`Handoff`; a temporary folder by default).
    """
    unknown = sorted(set(models) - set(SPARK_MEMBERS))
    if unknown:
        raise ValueError(f"Spark does not fit {', '.join(unknown)}; it fits {', '.join(SPARK_MEMBERS)}")
    n_users, n_items = snapshot.manifest.n_users, snapshot.manifest.n_items
    pairs = aggregate_pairs(read_events(spark, snapshot)).cache()
    handoff = Handoff(handoff_dir)
    try:
        fitted = {}
        for name, model in models.items():
            if name == "als":
                fitted[name] = fit_als(pairs, model, n_users, n_items, handoff)
            elif name == "item_knn":
                fitted[name] = fit_item_knn(pairs, model, n_users, n_items, handoff)
            else:
                fitted[name] = fit_popularity(pairs, model, n_items, handoff)
        return fitted
    finally:
        pairs.unpersist()
        handoff.close()
