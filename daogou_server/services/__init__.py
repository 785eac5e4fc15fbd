"""Throwaway data-store servers on loopback for the production profile and its tests.

Each module starts one Debian-installed server (PostgreSQL, Redis) in a
temporary directory on a free 127.0.0.1 port, waits until it answers, and can
stop and restart it on the same port and data (the fault tests need that).
Nothing here is used by the default profile, which keeps SQLite and Rasa's
in-memory lock store.
"""
from daogou_server.services.common import free_port
from daogou_server.services.postgres import LocalPostgres
from daogou_server.services.redis import LocalRedis

__all__ = ["LocalPostgres", "LocalRedis", "free_port"]
