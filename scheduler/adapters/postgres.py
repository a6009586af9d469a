"""The PostgreSQL adapter: the only module that imports psycopg (read-only `schema_migrations` reads)."""

from __future__ import annotations

import psycopg

from scheduler.classify.model import Database
from scheduler.errors import PendingSourceError
from scheduler.settings import Settings


def database_dsns(settings: Settings) -> dict[Database, str]:
    """The configured database connections (empty DSN = not configured)."""
    dsns = {Database.MAIN: settings.database_main_dsn, Database.CI: settings.database_ci_dsn}
    return {db: dsn.get_secret_value() for db, dsn in dsns.items() if dsn.get_secret_value()}


def read_applied_versions(database: Database, dsn: str, timeout: int = 5) -> set[str]:
    """Versions in `schema_migrations` of one database, read over a read-only connection."""
    try:
        with psycopg.connect(
            dsn, connect_timeout=timeout, options="-c default_transaction_read_only=on"
        ) as conn:
            conn.read_only = True
            rows = conn.execute("SELECT version FROM schema_migrations").fetchall()
    except psycopg.Error as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PendingSourceError(
            f"cannot read schema_migrations of the {database} database: {reason}"
        ) from None
    return {str(row[0]) for row in rows}
