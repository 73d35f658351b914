"""Settings from environment variables and an optional TOML config file.

Every setting has an environment variable `FLEETCARE_<NAME>`; a TOML file named by
`FLEETCARE_CONFIG` (or `fleetcare.toml` in the data directory) may hold the same keys in lower
case. Environment variables win over the file. With nothing set, fleetcare keeps an SQLite
database and its job queue under `./var`.

    settings = get_settings()
    settings.database_url   # 'sqlite:////abs/path/var/fleetcare.db'
"""

from __future__ import annotations

import os
import secrets
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads the optional TOML config file; its keys are the settings' names in lower case."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self._values = _read_config_file()

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._values.items() if k in self.settings_cls.model_fields}


def _read_config_file() -> dict[str, Any]:
    explicit = os.environ.get("FLEETCARE_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise SettingsError(f"FLEETCARE_CONFIG names {path}, which is not a file")
    else:
        path = Path(os.environ.get("FLEETCARE_DATA_DIR", "var")) / "fleetcare.toml"
        if not path.is_file():
            return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from exc


class SettingsError(Exception):
    """The configuration cannot be used; the message says which setting and why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLEETCARE_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: str = ""
    #: "sqlite" (a file in the data directory), "postgres" (tables in the main database),
    #: "redis" (jobs_redis_url) or "memory" (tests, runs tasks at once).
    jobs_backend: Literal["auto", "sqlite", "postgres", "redis", "memory"] = "auto"
    jobs_redis_url: str = "redis://127.0.0.1:6379/0"
    #: `fleetcare serve` consumes jobs in-process unless this is false (then run
    #: `fleetcare worker` beside it).
    jobs_in_process: bool = True
    base_url: str = "http://127.0.0.1:8000"
    #: Session cookies get the Secure flag; turn off only for plain-http local use.
    secure_cookies: bool = False
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    log_level: str = "INFO"
    log_json: bool = True
    #: Requests per minute per client address on public endpoints.
    public_rate_limit: int = Field(default=120, ge=1)
    manufacturer_name: str = "Example Devices GmbH"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFileSource(settings_cls))

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            # psycopg 3 is the driver we ship; accept the plain scheme people copy from docs.
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{self.data_dir / 'fleetcare.db'}"

    @property
    def is_postgres(self) -> bool:
        return self.resolved_database_url.startswith("postgresql")

    @property
    def resolved_jobs_backend(self) -> str:
        if self.jobs_backend != "auto":
            return self.jobs_backend
        return "postgres" if self.is_postgres else "sqlite"

    def resolved_secret_key(self) -> str:
        """The secret used to sign cookies; generated once into the data directory if unset."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key)
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests and the CLI call this after changing the environment)."""
    get_settings.cache_clear()
