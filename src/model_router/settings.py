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

    request_log_batch_size: int = Field(default=500, ge=1)
    request_log_flush_interval: float = Field(default=0.2, gt=0, le=1.0)
    request_log_max_pending: int = Field(default=100_000, ge=1)
    key_cache_refresh_seconds: float = Field(default=5.0, gt=0)
    max_request_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)

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
