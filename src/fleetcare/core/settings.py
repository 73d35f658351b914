"""Settings from environment variables and an optional TOML config file.

Every setting has an environment variable `FLEETCARE_<NAME>`; a TOML file named by
`FLEETCARE_CONFIG` (or `fleetcare.toml` in the data directory) may hold the same keys in lower
case. Environment variables win over the file. With nothing set, fleetcare keeps an SQLite
database and its job queue under `./var`.

    settings = get_settings()
    settings.database_url   # 'sqlite:////abs/path/var/fleetcare.db'
"""

from __future__ import annotations

import datetime as dt
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
    #: OSV ecosystems fetched by the online feed sync.
    osv_ecosystems: list[str] = [
        "OSS-Fuzz",
        "Debian",
        "Alpine",
        "OpenWrt",
        "PyPI",
        "npm",
        "Go",
        "crates.io",
        "Maven",
    ]
    #: NVD API key (optional; raises NVD's rate limit from 5 to 50 requests per 30 s).
    nvd_api_key: str = ""

    # --- notifications (core.notify): email and signed webhooks --------------------------
    #: SMTP server for email; empty: no email is sent (deliveries are recorded as skipped).
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    #: "starttls" (port 587), "ssl" (implicit TLS, port 465) or "none" (a local relay only).
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_from: str = "fleetcare@localhost"
    smtp_timeout_seconds: float = Field(default=10, gt=0, le=300)
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=300)
    #: Attempts per delivery before it is marked failed; retries wait notify_retry_seconds,
    #: doubling each time.
    notify_max_attempts: int = Field(default=6, ge=1, le=50)
    notify_retry_seconds: float = Field(default=60, gt=0, le=86400)

    # --- vulnerability disclosure (CVD) and security.txt -------------------------------------
    #: The manufacturer's time zone: working days, calendar days and months of deadlines,
    #: and the default zone in which due times are shown.
    timezone: str = "Europe/Berlin"
    #: Address for vulnerability reports by email (a Contact: mailto: line in security.txt).
    security_email: str = ""
    #: Further Contact URIs for security.txt (https:, mailto:, tel:); the report page is always one.
    security_contacts: list[str] = Field(default_factory=list)
    security_languages: list[str] = Field(default_factory=lambda: ["en"])
    #: URL of the OpenPGP key reporters may encrypt with (security.txt Encryption).
    security_encryption_url: str = ""
    #: URL of the CSAF provider-metadata.json (security.txt CSAF).
    security_csaf_url: str = ""
    security_hiring_url: str = ""
    #: security.txt Expires is this many days after its content was last reviewed (RFC 9116:
    #: less than a year); a warning goes out security_txt_warn_days before it lapses.
    security_txt_valid_days: int = Field(default=180, ge=1, le=364)
    security_txt_warn_days: int = Field(default=30, ge=1, le=180)
    #: The CVD policy's promises: acknowledge within N working days, a status update at least
    #: every N days, disclosure targeted N days after receipt.
    cvd_ack_working_days: int = Field(default=5, ge=1, le=30)
    cvd_update_days: int = Field(default=30, ge=1, le=180)
    cvd_disclosure_days: int = Field(default=90, ge=1, le=730)
    #: Public holidays that are not working days for the acknowledgement clock.
    cvd_holidays: list[dt.date] = Field(default_factory=list)
    #: Reports accepted per client address per hour (the public report page and API).
    report_rate_limit: int = Field(default=10, ge=1)
    report_attachment_max_bytes: int = Field(default=1024 * 1024, ge=1024, le=20 * 1024 * 1024)

    # --- Article 14 reporting --------------------------------------------------------------
    #: Company size (Art. 64(10): micro and small enterprises are not fined for missing the
    #: 24-hour early warning deadlines): micro, small, medium or large.
    manufacturer_size: Literal["micro", "small", "medium", "large"] = "large"
    manufacturer_address: str = ""
    #: ISO 3166 codes of EU Member States, deciding the coordinating CSIRT (Art. 14(7)): the
    #: main establishment, else the authorised representative's, the importer's, the
    #: distributor's (each: the one with most users), else where most users are.
    manufacturer_main_establishment: str = "DE"
    authorised_representative_state: str = ""
    importer_state: str = ""
    distributor_state: str = ""
    most_users_state: str = ""
    #: The coordinating CSIRT's name as it should appear on report documents (optional).
    coordinating_csirt_name: str = ""
    #: Member States where the products are made available (prefills early warnings).
    markets: list[str] = Field(default_factory=list)
    #: Alerts go out this many hours before each Art. 14 deadline, and again when overdue.
    reporting_alert_lead_hours: list[float] = Field(default_factory=lambda: [12.0, 4.0, 1.0])
    #: Who gets deadline alerts by email; empty: every active security user.
    reporting_alert_emails: list[str] = Field(default_factory=list)

    # --- triage and advisories (CSAF) ----------------------------------------------------------
    #: Days from a finding's first sighting to a decision and to a fix, per severity.
    triage_sla_days: dict[str, int] = Field(
        default_factory=lambda: {"critical": 7, "high": 30, "medium": 90, "low": 180}
    )
    #: Prefix of advisory tracking ids (PREFIX-YEAR-NNNN).
    advisory_id_prefix: str = "FCSA"
    #: GnuPG home holding the CSAF signing key (made on first publication); default
    #: <data_dir>/openpgp.
    csaf_gnupg_home: Path | None = None

    # --- signed updates (updates): artifacts, TUF, devices, rollouts ---------------------------
    #: Where firmware artifacts are kept: empty for <data_dir>/artifacts, or file:///path.
    artifact_storage_url: str = ""
    artifact_max_bytes: int = Field(default=2 * 1024**3, ge=1024)
    #: The server's TUF keys (targets, snapshot, timestamp, per product); default
    #: <data_dir>/tuf-keys. Root keys never belong here.
    tuf_keys_dir: Path | None = None
    tuf_targets_days: int = Field(default=90, ge=2, le=3650)
    tuf_snapshot_days: int = Field(default=7, ge=1, le=365)
    tuf_timestamp_hours: int = Field(default=24, ge=1, le=24 * 30)
    #: Requests per minute one device may make to the device API.
    device_rate_limit: int = Field(default=60, ge=1)
    #: Answer steady-state check-ins and DDI polls below the web framework
    #: (`fleetcare.updates.fastpath`); off sends everything through the full routes.
    device_hot_path: bool = True
    #: How often devices are told to check in, and how often while an update is under way.
    device_poll_seconds: int = Field(default=3600, ge=10)
    device_busy_poll_seconds: int = Field(default=60, ge=5)
    #: Lifetime of a device's check-in session (HMAC-signed check-ins, see updates.devices).
    device_session_hours: int = Field(default=24, ge=1, le=24 * 30)
    #: Longest a device or customer may postpone a security update (Annex I Part I (2)(c)).
    security_postpone_max_days: int = Field(default=30, ge=1, le=365)
    #: MQTT broker for update notifications (mqtt://host:port); empty: devices just poll.
    mqtt_url: str = ""
    #: The tenant name hawkBit DDI clients put in their URLs (/{tenant}/controller/v1/...).
    ddi_tenant: str = "DEFAULT"

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

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin"
            ) from None
        return value

    @field_validator(
        "manufacturer_main_establishment",
        "authorised_representative_state",
        "importer_state",
        "distributor_state",
        "most_users_state",
    )
    @classmethod
    def _member_state(cls, value: str) -> str:
        value = value.strip().upper()
        if value and (len(value) != 2 or not value.isalpha()):
            raise ValueError(f"{value!r} is not a two-letter country code such as DE")
        return value

    @field_validator("markets")
    @classmethod
    def _member_states(cls, value: list[str]) -> list[str]:
        return [cls._member_state(v) for v in value]

    @field_validator("security_contacts", "security_languages", "reporting_alert_emails")
    @classmethod
    def _single_lines(cls, value: list[str]) -> list[str]:
        # These end up as lines of security.txt or email headers: a line break would inject.
        for item in value:
            if any(ord(c) < 0x20 or ord(c) == 0x7F for c in item):
                raise ValueError(f"{item!r} contains a control character")
        return [v.strip() for v in value if v.strip()]

    @field_validator(
        "security_email",
        "security_encryption_url",
        "security_csaf_url",
        "security_hiring_url",
        "smtp_from",
        "coordinating_csirt_name",
    )
    @classmethod
    def _single_line(cls, value: str) -> str:
        return cls._single_lines([value])[0] if value.strip() else ""

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
