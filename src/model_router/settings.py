"""Settings: the only module that reads the environment (and a `.env` file).

The provider settings follow each official SDK's naming: `<P>_API_KEY` and
`<P>_BASE_URL` for P in OPENAI, ANTHROPIC, GEMINI, DEEPSEEK. Further
OpenAI-compatible providers are declared in the catalogue (`model-router
providers add`) and name the environment variable that holds their key;
`Settings.secret()` is how the rest of the code reads such a variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("data") / "model_router.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_SQLITE_PATH}",
        description="sqlite:///path or postgresql://user@host:port/db",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8001, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    admin_api_key: str | None = None

    openai_api_key: str | None = None
    openai_base_url: str = "https://api.openai.com/v1"
    anthropic_api_key: str | None = None
    anthropic_base_url: str = "https://api.anthropic.com"
    gemini_api_key: str | None = None
    gemini_base_url: str = "https://generativelanguage.googleapis.com"
    deepseek_api_key: str | None = None
    deepseek_base_url: str = "https://api.deepseek.com"

    upstream_connect_timeout: float = Field(default=10.0, gt=0)
    upstream_read_timeout: float = Field(default=600.0, gt=0)
    upstream_max_connections: int = Field(default=512, ge=1)

    # Rows per write transaction. Large: on SQLite every transaction takes the one
    # write lock, and workers that wrote 500 rows at a time kept waiting on each
    # other (the pending rows grew by thousands a second at 2,600 requests/s).
    request_log_batch_size: int = Field(default=5000, ge=1)
    request_log_flush_interval: float = Field(default=0.2, gt=0, le=1.0)
    request_log_max_pending: int = Field(default=100_000, ge=1)
    # While the database cannot take rows, they go to files here (one subdirectory
    # per database); default: beside the SQLite file, or ./data/request-log-spill.
    request_log_spill_dir: Path | None = None
    request_log_spill_threshold: int = Field(default=10_000, ge=1)
    request_log_write_timeout: float = Field(default=10.0, gt=0)
    # Retention (issue 20), in whole UTC days, off when unset: rows older than
    # this go (PostgreSQL: whole monthly partitions); the usage rollup keeps their
    # totals. Text retention, shorter, blanks prompts and responses only.
    request_log_retention_days: int | None = Field(default=None, ge=1)
    request_text_retention_days: int | None = Field(default=None, ge=1)
    request_log_maintenance_seconds: float = Field(default=300.0, gt=0)
    key_cache_refresh_seconds: float = Field(default=5.0, gt=0)
    max_request_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)

    # Governance and webhooks (issue 6).
    redis_url: str | None = Field(
        default=None, description="redis://host:port/db: limits and spend shared by instances"
    )
    redis_key_prefix: str = Field(default="mr:", max_length=100)
    redis_failure_mode: Literal["open", "closed"] = Field(
        default="open",
        description="Redis unreachable: 'open' admits calls unlimited, 'closed' answers 503",
    )
    redis_retry_seconds: float = Field(default=2.0, gt=0)
    store_text: bool = Field(default=True, description="False: no prompt/response text in the log")
    budget_reservation_ttl: float = Field(default=3600.0, gt=0)
    webhook_max_attempts: int = Field(default=8, ge=1, le=100)
    webhook_retry_base_seconds: float = Field(default=2.0, gt=0)
    webhook_retry_max_seconds: float = Field(default=600.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)

    # Routing (issue 5): deployments, retries, fallbacks, circuit breakers, `auto`.
    router_config: Path | None = Field(default=None, description="the routing YAML file")
    router_default_model: str = "gpt-4o"  # what `auto` savings are measured against
    router_max_retries: int = Field(default=2, ge=0, le=10)  # per model, after the first try
    router_backoff_base: float = Field(default=0.5, gt=0)  # seconds
    router_backoff_max: float = Field(default=8.0, gt=0)  # seconds
    router_retry_after_max: float = Field(default=30.0, ge=0)  # longer waits go elsewhere
    router_deadline: float = Field(default=300.0, gt=0)  # seconds per request (to first content)
    router_attempt_timeout: float = Field(default=120.0, gt=0)  # one attempt, to its answer
    router_circuit_failures: int = Field(default=5, ge=1)  # consecutive failures that open it
    router_circuit_error_rate: float = Field(default=0.5, gt=0, le=1)  # over the window
    router_circuit_window: int = Field(default=20, ge=2)  # last N calls
    router_circuit_cooldown: float = Field(default=30.0, gt=0)  # seconds open before a probe

    # Response cache and experiments (issue 10).
    cache_enabled: bool = False  # on for every request; per request: x-router-cache / `cache`
    cache_enabled_keys: str = ""  # comma-separated key ids the cache is on for
    cache_ttl: float = Field(default=3600.0, gt=0)  # seconds
    cache_max_entries: int = Field(default=10_000, ge=1)  # in-process store (LRU)
    cache_scope: Literal["per_key", "global"] = "per_key"  # global: keys share answers
    cache_redis_prefix: str = "cache:"  # after REDIS_KEY_PREFIX, in Redis (REDIS_URL)
    semantic_cache_enabled: bool = False
    semantic_cache_threshold: float = Field(default=0.95, gt=0, le=1)  # cosine similarity
    semantic_cache_provider: str = "openai"  # a catalogue provider serving /embeddings
    semantic_cache_model: str = "text-embedding-3-small"
    semantic_cache_max_entries: int = Field(default=10_000, ge=1)
    experiments_refresh_seconds: float = Field(default=5.0, gt=0)
    # Learned routing (issue 19): routing pools in ROUTER_CONFIG, state in the database.
    learned_routing_flush_seconds: float = Field(default=0.5, gt=0)  # decisions written
    learned_routing_refresh_seconds: float = Field(default=2.0, gt=0)  # arms reloaded
    # The Responses API (issue 17): stored responses (`store`, `previous_response_id`).
    responses_retention_days: float = Field(default=30, gt=0)  # then purged
    responses_purge_seconds: float = Field(default=3600.0, gt=0)  # how often the purge runs

    # Operations (issue 8): metrics, logs, tracing, lifecycle.
    metrics_access: Literal["open", "admin"] = "admin"  # who may GET /metrics
    log_format: Literal["text", "json"] = "text"
    log_requests: bool = True  # one line per request on the model_router.requests logger
    log_prompts: bool = False  # add the prompt text to that line
    otel_exporter_otlp_endpoint: str | None = None  # tracing is off while unset
    otel_exporter_otlp_headers: str | None = None  # k1=v1,k2=v2
    otel_service_name: str = "model-router"
    otel_bsp_schedule_delay: int = Field(default=5000, ge=1)  # ms between span exports
    shutdown_timeout: float = Field(default=30.0, gt=0)  # seconds for in-flight requests
    shutdown_drain_seconds: float = Field(default=0.0, ge=0)  # /ready 503 before closing
    startup_db_wait: float = Field(default=60.0, ge=0)  # seconds to wait for the database
    prometheus_multiproc_dir: Path | None = None  # `serve --workers N` sets it

    @field_validator("router_config", mode="before")
    @classmethod
    def _no_file(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def async_database_url(self) -> str:
        """The URL with the async driver SQLAlchemy needs."""
        url = self.database_url
        for prefix, driver in (
            ("postgresql+asyncpg://", None),
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite+aiosqlite://", None),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(prefix):
                return url if driver is None else driver + url[len(prefix) :]
        raise ValueError(
            f"DATABASE_URL must be sqlite:// or postgresql://, got {url.split(':')[0]}"
        )

    @property
    def is_sqlite(self) -> bool:
        return self.async_database_url.startswith("sqlite")

    def secret(self, env_name: str) -> str | None:
        """The value of a provider key setting, by its environment variable name."""
        field = env_name.lower()
        if field in type(self).model_fields:
            value = getattr(self, field)
            return value if isinstance(value, str) and value else None
        return os.environ.get(env_name) or None
