"""Where enriched articles are stored and searched.

The public API is this module: ``open_storage(DATABASE_URL)`` picks the backend,
and every backend implements ``Storage``. Callers ``await storage.open()`` before
use and ``await storage.close()`` after.

Errors:

    ValueError            a DATABASE_URL, cursor or limit that cannot be used
    NotImplementedError   a backend this version does not ship (PostgreSQL)
    RetryableError        the database is busy for now (shared.errors)
"""

from __future__ import annotations

from shared.storage.base import SearchPage, SearchQuery, Storage
from shared.storage.sqlite import SQLiteStorage

__all__ = ["SQLiteStorage", "SearchPage", "SearchQuery", "Storage", "open_storage"]


def open_storage(url: str) -> Storage:
    """An un-opened storage for ``url`` (the DATABASE_URL); ``await .open()`` it.

    ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` and
    ``sqlite:///:memory:`` give ``SQLiteStorage``. Raises ``NotImplementedError``
    for ``postgresql://`` / ``postgres://`` and ``ValueError`` naming DATABASE_URL
    for anything else. The URL itself is never echoed: it may hold a password.
    """
    scheme = url.partition(":")[0].lower()
    if scheme == "sqlite":
        return SQLiteStorage.from_url(url)
    if scheme in ("postgresql", "postgres") or scheme.startswith("postgresql+"):
        raise NotImplementedError(
            "DATABASE_URL: PostgreSQL support is not in this version of newsflow; "
            "use sqlite:///path/to/newsflow.db or leave DATABASE_URL unset"
        )
    raise ValueError(
        f"DATABASE_URL must start with sqlite:/// or postgresql:// (got scheme {scheme!r})"
    )
