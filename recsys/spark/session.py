"""A SparkSession for training, or one clear line saying what to install."""
from __future__ import annotations

import os
import shutil
from typing import Any, Dict, Optional

INSTALL_HINT = ("install it with `pip install -e .[spark]` (or `make install-spark`) and Java 17 "
                "(Debian: openjdk-17-jre-headless)")

#: Settings every session gets: no web UI (nothing listens beyond the driver), few shuffle
#: partitions (a 2-core machine gains nothing from 200), UTC timestamps.
BASE_CONF: Dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
}


class SparkUnavailable(RuntimeError):
    """pyspark or Java is missing: the message says what to install."""


def _check_java() -> None:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and os.path.exists(os.path.join(java_home, "bin", "java")):
        return
    if shutil.which("java") is None:
        raise SparkUnavailable(f"--engine spark needs Java, which is not on PATH: {INSTALL_HINT}")


def spark_session(master: str = "local[2]", app_name: str = "daogou-recsys", driver_memory: Optional[str] = None,
                  shuffle_partitions: Optional[int] = None, conf: Optional[Dict[str, Any]] = None):
    """A SparkSession on ``master`` (``local[2]``, ``spark://host:7077``, ``yarn``).

    A local master binds to 127.0.0.1 so nothing listens on the network. Raises
    :class:`SparkUnavailable` (one line, no traceback for the CLI) without pyspark or Java.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkUnavailable(f"--engine spark needs pyspark ({exc}): {INSTALL_HINT}") from None
    _check_java()
    builder = SparkSession.builder.master(master).appName(app_name)
    settings = dict(BASE_CONF)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        settings.update({"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"})
        settings["spark.sql.shuffle.partitions"] = str(shuffle_partitions or 4)
    elif shuffle_partitions:
        settings["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
    if driver_memory:
        settings["spark.driver.memory"] = driver_memory
    settings.update({k: str(v) for k, v in (conf or {}).items()})
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM failed to start: usually Java missing or too old
        raise SparkUnavailable(f"Spark could not start ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}): "
                               f"{INSTALL_HINT}") from None
    session.sparkContext.setLogLevel("ERROR")
    return session
