"""One settings object, read from the environment once and validated at start-up.

Every variable is listed in the README's configuration table; a bad value stops
the process with a message naming the variable.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.stack import StackRecord, read_record


class Settings(BaseSettings):
    """newsflow configuration. Environment names are given in ``validation_alias``."""

    # hide_input_in_errors: a bad REDIS_URL or DATABASE_URL may hold a password, and
    # the error is printed at start-up.
    model_config = SettingsConfigDict(
        env_prefix="NEWSFLOW_", extra="ignore", populate_by_name=True, hide_input_in_errors=True
    )

    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "NEWSFLOW_REDIS_URL")
    )
    # REDIS_URL names one node of a Redis Cluster: clients discover the rest. Every key
    # of a pipeline must then share a hash slot, so the prefix needs a hash tag.
    redis_cluster: bool = False
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "NEWSFLOW_DATABASE_URL"),
    )
    # The PostgreSQL password on its own, so that one with "@", ":" or "/" needs no
    # percent-encoding in DATABASE_URL (compose passes POSTGRES_PASSWORD here).
    database_password: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_PASSWORD", "NEWSFLOW_DATABASE_PASSWORD"),
        repr=False,
    )
    data_dir: Path = Path("data")
    api_key: str | None = None
    # How long a browser token from POST /v1/tokens opens the event streams.
    token_ttl_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    prefix: str = "newsflow:"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)

    # Each enrich/sink worker process serves /healthz, /readyz and /metrics here;
    # 0 disables it. `newsflow up` gives its N enrich workers enrich_http_port + i.
    worker_http_host: str = "127.0.0.1"
    sink_http_port: int = Field(default=9101, ge=0, le=65535)
    enrich_http_port: int = Field(default=9102, ge=0, le=65535)
    # /readyz of a worker answers 503 when its group lags (or, on Redis < 7 where lag
    # is unknown, holds pending) more than this many entries.
    ready_max_lag: int = Field(default=10_000, ge=0)

    # Limits: requests over these get 413 with the limit named.
    max_request_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    max_article_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    max_batch_items: int = Field(default=1000, ge=1)

    # Ingest: how long an article id is remembered for duplicate detection.
    dedup_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)

    # Workers.
    ner: Literal["on", "off"] = "on"
    # Keywords cost ~2 ms an article: "auto" extracts them when NER is on, so that
    # NEWSFLOW_NER=off is the high-volume mode (language and lexicon topics only).
    keywords: Literal["auto", "on", "off"] = "auto"
    # Texts spaCy holds in memory at once. Larger batches are no faster on CPU and
    # cost ~4 MB of peak memory per 6 KB article; the worker reads enrich_batch_size
    # entries and feeds them to the model this many at a time.
    ner_batch_size: int = Field(default=8, ge=1, le=1_000)
    spacy_model: str | None = None
    # Bounded work per article: the model and the entity rules read at most this many
    # characters of title and body (the rest is stored and topic-classified; the
    # provenance's ner_limited says where NER stopped).
    ner_max_chars: int = Field(default=100_000, ge=1_000)
    # An enrich batch is enriched in parts of at most this many characters of title
    # and body (at least one article each), which bounds the worker's peak memory.
    enrich_batch_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    taxonomy_path: Path | None = None
    topic_threshold: float = Field(default=0.3, ge=0.0, le=1.0)
    # Entries an enrich worker takes at a time; unset: 8 with NER (a batch is ~1 s of
    # model time, and small batches share out evenly between replicas), 32 without.
    enrich_batch_size: int | None = Field(default=None, ge=1, le=10_000)
    sink_batch_size: int = Field(default=500, ge=1, le=100_000)
    inbox_batch_size: int = Field(default=500, ge=1, le=100_000)
    polling_interval_ms: int = Field(default=100, ge=1)
    graceful_timeout: float = Field(default=15.0, gt=0)
    max_deliveries: int = Field(default=5, ge=1)
    # A batch whose output cannot be written (RetryableError: storage or Redis away) is
    # held and retried in place, waiting 0.5 s, 1 s, 2 s ... up to this long between tries.
    retry_max_backoff_s: float = Field(default=30.0, gt=0)
    # Entries pending this long (a dead or stuck consumer) are claimed by a live one.
    claim_idle_ms: int = Field(default=15_000, ge=100)
    # Consumers with nothing pending and idle this long are removed from their group.
    stale_consumer_ms: int = Field(default=3_600_000, ge=1_000)
    # Backpressure: above this many raw entries not yet enriched the API answers 429.
    max_raw_backlog: int = Field(default=100_000, ge=1)
    # Topic streams keep entries this long (and at most topic_maxlen, if set).
    topic_retention_hours: float = Field(default=168.0, gt=0)
    topic_maxlen: int | None = Field(default=None, ge=1)
    # Server-Sent Events: a ': keepalive' comment after this many idle seconds.
    sse_keepalive_seconds: float = Field(default=15.0, gt=0)
    # Open event streams per API process; more get 429. They read Redis through a
    # connection pool of their own (this size plus a few), apart from ingestion's.
    sse_max_streams: int = Field(default=200, ge=1, le=100_000)
    # The NER model is loaded again (about a second) once it has read this many words
    # new to it: spaCy never forgets a word, and text made of new words (codes,
    # hashes, junk) would grow the enrich worker's memory without end.
    ner_max_new_words: int = Field(default=30_000, ge=100)
    # How often the ingest service checks that Redis still holds its data (the
    # generation marker of shared.generation); a loss is logged and recorded.
    generation_check_s: float = Field(default=5.0, gt=0)
    # Saved filters: at most this many (creating one more is 409); each is at most
    # 64 KB of JSON.
    max_subscriptions: int = Field(default=200, ge=0)
    # Webhooks: a target that resolves to a private, loopback, link-local, multicast,
    # reserved or unspecified address is refused unless this is true (a stack whose
    # receivers run on the same host or network).
    webhook_allow_private: bool = False
    # A delivery is retried (exponential backoff, full jitter, Retry-After honoured)
    # for this long; then the entry goes to the webhook's dead-letter stream.
    webhook_max_retry_s: float = Field(default=86_400.0, ge=0)
    webhook_connect_timeout_s: float = Field(default=5.0, gt=0)
    # The whole attempt: connect, send, and read the (capped) response.
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    # How often the deliver worker looks for new and deleted webhooks.
    webhook_refresh_s: float = Field(default=2.0, gt=0)

    @field_validator("prefix")
    @classmethod
    def _prefix_ends_with_colon(cls, value: str) -> str:
        if not value:
            raise ValueError("NEWSFLOW_PREFIX must not be empty")
        return value if value.endswith(":") else value + ":"

    @model_validator(mode="after")
    def _cluster_prefix_has_hash_tag(self) -> Settings:
        if self.redis_cluster and hash_tag(self.prefix) is None:
            raise ValueError(
                f"NEWSFLOW_PREFIX {self.prefix!r} has no hash tag: with NEWSFLOW_REDIS_CLUSTER "
                "every key of a pipeline must share a slot; use e.g. '{newsflow}:'"
            )
        return self

    @field_validator("api_key")
    @classmethod
    def _api_key_not_empty(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError(
                "NEWSFLOW_API_KEY is set but empty: set a key, or unset it to run open"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("REDIS_URL must start with redis://, rediss:// or unix://")
        return value

    @field_validator("database_url")
    @classmethod
    def _db_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("sqlite://", "postgresql://", "postgres://")):
            raise ValueError("DATABASE_URL must start with sqlite:/// or postgresql://")
        return value

    @property
    def resolved_enrich_batch_size(self) -> int:
        """``enrich_batch_size``, else 8 with NER and 32 without."""
        if self.enrich_batch_size is not None:
            return self.enrich_batch_size
        return 8 if self.ner == "on" else 32

    @property
    def resolved_database_url(self) -> str:
        """``DATABASE_URL``, else the running stack's when this command was started
        outside its folder (``shared.stack``), else the SQLite file under the data dir."""
        if self.database_url:
            return _with_password(self.database_url, self.database_password)
        record = self._running_stack()
        if record is not None:
            return record.database_url
        return f"sqlite:///{(self.data_dir / 'newsflow.db').resolve()}"

    @property
    def redis_url_file(self) -> Path:
        """Where ``newsflow up`` records the address of its embedded Redis."""
        return self.data_dir / "redis.url"

    def resolved_redis_url(self) -> str | None:
        """``REDIS_URL``, else the embedded server that ``newsflow up`` is running: the
        one of the data dir, else the one recorded for this user (from any folder)."""
        if self.redis_url:
            return self.redis_url
        try:
            return self.redis_url_file.read_text().strip() or None
        except OSError:
            pass
        record = self._running_stack()
        return record.redis_url if record is not None else None

    @property
    def resolved_api_url(self) -> str:
        """The HTTP API's base URL: the running stack's when this command was started
        outside its folder and no port was chosen, else ``api_host``:``api_port``."""
        chosen = {"api_host", "api_port"} & self.model_fields_set
        record = None if chosen else self._running_stack()
        if record is not None:
            return record.api_url
        return f"http://{self.api_host}:{self.api_port}"

    def _running_stack(self) -> StackRecord | None:
        """The per-user record of a running ``newsflow up``, consulted only when no
        data dir was chosen (flag or ``NEWSFLOW_DATA_DIR``) and ``./data`` holds no
        running stack of its own."""
        if "data_dir" in self.model_fields_set or self.redis_url_file.exists():
            return None
        return read_record()


def _with_password(url: str, password: str | None) -> str:
    """``url`` with ``password`` percent-encoded into it, if it is a PostgreSQL URL
    that carries none of its own."""
    if not password or not url.startswith(("postgresql://", "postgres://")):
        return url
    scheme, _, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    userinfo, at, hostport = authority.rpartition("@")
    if not at or ":" in userinfo:
        return url  # no user to attach it to, or a password already there
    return f"{scheme}://{userinfo}:{quote(password, safe='')}@{hostport}{slash}{path}"


def hash_tag(key: str) -> str | None:
    """The part of ``key`` Redis Cluster hashes when it has a tag: what lies between
    the first ``{`` and the first ``}`` after it, if that is not empty."""
    start = key.find("{")
    end = key.find("}", start + 1) if start >= 0 else -1
    return key[start + 1 : end] if end > start + 1 else None


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
