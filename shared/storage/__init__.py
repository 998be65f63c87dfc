"""Where enriched articles are stored and searched.

The public API is this module: ``open_storage(DATABASE_URL)`` picks the backend,
and every backend implements ``Storage``. Callers ``await storage.open()`` before
use and ``await storage.close()`` after.

Errors:

    ValueError            a DATABASE_URL, cursor or limit that cannot be used
                          (for PostgreSQL also a login the server refuses)
    RetryableError        the database is busy or unreachable for now (shared.errors)
    RuntimeError          the database's schema is newer than this newsflow
"""

from __future__ import annotations

from shared.storage.base import SearchPage, SearchQuery, Storage
from shared.storage.postgres import PostgresStorage
from shared.storage.sqlite import SQLiteStorage

__all__ = [
    "PostgresStorage",
    "SQLiteStorage",
    "SearchPage",
    "SearchQuery",
    "Storage",
    "open_storage",
]


def open_storage(url: str) -> Storage:
    """An un-opened storage for ``url`` (the DATABASE_URL); ``await .open()`` it.

    ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` and
    ``sqlite:///:memory:`` give ``SQLiteStorage``; ``postgresql://user:password@
    host:5432/dbname`` (or ``postgres://``, with any libpq URL parameters such as
    ``?sslmode=require``) gives ``PostgresStorage``. Anything else, or a URL that
    cannot be parsed, raises ``ValueError`` naming DATABASE_URL. The URL itself is
    never echoed: it may hold a password.
    """
    scheme = url.partition(":")[0].lower()
    if scheme == "sqlite":
        return SQLiteStorage.from_url(url)
    if scheme in ("postgresql", "postgres"):
        return PostgresStorage.from_url(url)
    if scheme.startswith("postgresql+"):
        # A SQLAlchemy-style URL names a driver; newsflow has its own.
        raise ValueError(
            "DATABASE_URL: drop the driver name; newsflow takes postgresql://user:password@"
            "host:5432/dbname"
        )
    raise ValueError(
        f"DATABASE_URL must start with sqlite:/// or postgresql:// (got scheme {scheme!r})"
    )
