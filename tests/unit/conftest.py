"""A PostgreSQL server for the storage tests, with a database of their own.

The server is, in order: a testcontainers ``PostgresContainer`` when a Docker
engine answers; the server at ``DATABASE_URL`` when that is a postgresql:// URL;
else ``postgresql://postgres@127.0.0.1:5432/postgres`` (a local server with trust
auth). The run creates a database ``newsflow_test_<hex8>`` there and drops it at
the end; each test gets a fresh, empty schema in it. When no server answers, or
the database cannot be created, the PostgreSQL tests are skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import NoReturn
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from shared.storage.postgres import describe_url
from tests.conftest import _docker_answers

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_IMAGE = "postgres:16-alpine"  # what docker-compose runs


def postgres_url(
    base: str, *, dbname: str | None = None, options: str = "", address: str | None = None
) -> str:
    """``base`` with another database, ``host:port`` address, or libpq ``options``
    (``-c name=value``) added to its own."""
    parts = urlsplit(base)
    query = dict(parse_qsl(parts.query))
    if options:
        query["options"] = f"{query.get('options', '')} {options}".strip()
    netloc = parts.netloc
    if address is not None:
        user, at, _ = netloc.rpartition("@")
        netloc = f"{user}{at}{address}"
    return urlunsplit(
        parts._replace(
            netloc=netloc,
            path=f"/{dbname}" if dbname is not None else parts.path,
            query=urlencode(query, quote_via=quote),
        )
    )


def _skip(reason: str) -> NoReturn:
    pytest.skip(f"PostgreSQL storage tests skipped: {reason}")


def _answers(url: str) -> str | None:
    """None when the server at ``url`` accepts a connection, else why not."""
    try:
        with psycopg.connect(url, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return " ".join(str(exc).split())


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """An administrator's URL of a PostgreSQL server for this run (or a skip)."""
    if _docker_answers():
        from testcontainers.community.postgres import PostgresContainer

        with PostgresContainer(POSTGRES_IMAGE, driver=None) as container:
            yield container.get_connection_url()
        return
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgresql://", "postgres://")):
        url = LOCAL_SERVER
    problem = _answers(url)
    if problem is not None:
        _skip(
            f"no server answers at {describe_url(url)} ({problem}); start one, set "
            "DATABASE_URL=postgresql://..., or run a Docker engine"
        )
    yield url


@pytest.fixture(scope="session")
def postgres_database_url(postgres_server_url: str) -> Iterator[str]:
    """A database created for this run, dropped (with any connection left) at the end."""
    name = f"newsflow_test_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(postgres_server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        _skip(f"cannot create a test database on {describe_url(postgres_server_url)}: {exc}")
    try:
        yield postgres_url(postgres_server_url, dbname=name)
    finally:
        with psycopg.connect(postgres_server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def postgres_schema_url(postgres_database_url: str) -> Iterator[str]:
    """A URL on the test database whose search_path is a new, empty schema.

    Every table newsflow creates lands in that schema, so a test starts from an
    empty database (and runs the migrations); the schema is dropped afterwards.
    """
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield postgres_url(postgres_database_url, options=f"-c search_path={schema}")
    finally:
        with psycopg.connect(postgres_database_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
