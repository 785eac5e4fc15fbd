"""Training the collaborative members on Apache Spark, for event logs that outgrow one machine.

The only place in the project that imports ``pyspark``, and only when asked for
(``python -m recsys train --engine spark``): without the ``[spark]`` extra and Java the
default engine works as before. Spark fits ALS, item co-occurrence and popularity from a
Parquet snapshot (:mod:`recsys.export`) and hands back the same model objects the
single-machine engine fits, so they are saved, loaded and served unchanged.
"""
from recsys.spark.session import SparkUnavailable, spark_session

__all__ = ["SparkUnavailable", "spark_session"]
