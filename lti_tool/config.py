"""Settings for every CX Academy process, read from the environment at the edge.

This is the only module that reads ``os.environ``. Each process builds one
``Settings`` at start-up; bad values fail there, not on the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from lti_tool.errors import ConfigError

#: Where the embedded default keeps its files (SQLite, broker folders, LRS data).
DEFAULT_VAR_DIR = Path(__file__).resolve().parent.parent / "var"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as err:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from err
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """One process's configuration. Defaults are the embedded demo set-up."""

    # Public base URL of the tool, as the LMS and the learner's browser reach it.
    base_url: str = "http://127.0.0.1:8000"
    # Signs Flask session cookies and CSRF tokens. Must be set in production.
    secret_key: str = "dev-only-secret-key-change-me"  # noqa: S105 (demo default; refused on https)
    # Encrypts the tool's private RSA keys at rest (any string; a key is derived from it).
    key_encryption_secret: str = "dev-only-key-encryption-secret"  # noqa: S105 (as above)
    # SQLAlchemy URL. SQLite for the embedded default, PostgreSQL in production.
    database_url: str = f"sqlite:///{DEFAULT_VAR_DIR / 'cxa.db'}"
    # Celery broker. "filesystem://" needs no server (embedded); redis:// or amqp:// in production.
    broker_url: str = "filesystem://localhost/"
    # Folder the filesystem broker exchanges messages through (embedded only).
    broker_dir: Path = DEFAULT_VAR_DIR / "broker"
    # Launch state (OIDC state, nonces). Empty: the database; redis://... in production.
    state_store_url: str = ""
    # Seconds an OIDC state or nonce stays valid between login and launch.
    launch_state_ttl: int = 600
    # Seconds a fetched platform JWKS is trusted before it is fetched again.
    jwks_cache_ttl: int = 3600
    # Seconds an old tool key keeps being published after rotation, so platforms that cached it
    # can still verify what it signed.
    key_overlap_seconds: int = 7 * 24 * 3600
    # xAPI destination. Empty endpoint: statements stay in the outbox.
    lrs_endpoint: str = ""
    lrs_username: str = ""
    lrs_password: str = ""
    # Statements sent per POST to the LRS.
    lrs_batch_size: int = 50
    # Seconds between the periodic outbox sweeps that catch rows whose task message was lost.
    outbox_sweep_seconds: int = 30
    # Run the built-in demo LMS (embedded default only; never in production).
    demo_lms: bool = False
    # Where the demo LMS is served; its issuer too.
    demo_lms_url: str = "http://127.0.0.1:8001"
    # Folder for the embedded default's files (demo LMS key, LRS data, beat schedule).
    var_dir: Path = DEFAULT_VAR_DIR
    # Session cookies only over HTTPS. Off for the loopback demo.
    secure_cookies: bool = False
    # Log level for our own loggers.
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``CXA_*`` variables; raise ConfigError naming a bad one."""
        env = os.environ if env is None else env
        d = cls()
        settings = cls(
            base_url=env.get("CXA_BASE_URL", d.base_url).rstrip("/"),
            secret_key=env.get("CXA_SECRET_KEY", d.secret_key),
            key_encryption_secret=env.get("CXA_KEY_ENCRYPTION_SECRET", d.key_encryption_secret),
            database_url=env.get("CXA_DATABASE_URL", d.database_url),
            broker_url=env.get("CXA_BROKER_URL", d.broker_url),
            broker_dir=Path(env.get("CXA_BROKER_DIR", str(d.broker_dir))),
            state_store_url=env.get("CXA_STATE_STORE_URL", d.state_store_url),
            launch_state_ttl=_int(env, "CXA_LAUNCH_STATE_TTL", d.launch_state_ttl, minimum=30),
            jwks_cache_ttl=_int(env, "CXA_JWKS_CACHE_TTL", d.jwks_cache_ttl),
            key_overlap_seconds=_int(env, "CXA_KEY_OVERLAP_SECONDS", d.key_overlap_seconds),
            lrs_endpoint=env.get("CXA_LRS_ENDPOINT", d.lrs_endpoint),
            lrs_username=env.get("CXA_LRS_USERNAME", d.lrs_username),
            lrs_password=env.get("CXA_LRS_PASSWORD", d.lrs_password),
            lrs_batch_size=_int(env, "CXA_LRS_BATCH_SIZE", d.lrs_batch_size, minimum=1),
            outbox_sweep_seconds=_int(
                env, "CXA_OUTBOX_SWEEP_SECONDS", d.outbox_sweep_seconds, minimum=1
            ),
            demo_lms=_bool(env, "CXA_DEMO_LMS", d.demo_lms),
            demo_lms_url=env.get("CXA_DEMO_LMS_URL", d.demo_lms_url).rstrip("/"),
            var_dir=Path(env.get("CXA_VAR_DIR", str(d.var_dir))),
            secure_cookies=_bool(env, "CXA_SECURE_COOKIES", d.secure_cookies),
            log_level=env.get("CXA_LOG_LEVEL", d.log_level).upper(),
        )
        settings.check()
        return settings

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests and the demo runner use this)."""
        updated = replace(self, **changes)  # type: ignore[arg-type]
        updated.check()
        return updated

    def check(self) -> None:
        """Cross-checks that would otherwise fail late and obscurely."""
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"CXA_BASE_URL must start with http:// or https://: {self.base_url}")
        if self.lrs_endpoint and not self.lrs_endpoint.startswith(("http://", "https://")):
            raise ConfigError(f"CXA_LRS_ENDPOINT must be an http(s) URL: {self.lrs_endpoint}")
        if self.state_store_url and not self.state_store_url.startswith(("redis://", "rediss://")):
            raise ConfigError("CXA_STATE_STORE_URL must be empty (database) or a redis:// URL")
        if self.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError(
                f"CXA_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR: {self.log_level}"
            )
        production = self.base_url.startswith("https://")
        if production and self.demo_lms:
            raise ConfigError("CXA_DEMO_LMS must be off when CXA_BASE_URL is https (production)")
        if production and self.secret_key == Settings.secret_key:
            raise ConfigError("CXA_SECRET_KEY must be set in production")
        if production and self.key_encryption_secret == Settings.key_encryption_secret:
            raise ConfigError("CXA_KEY_ENCRYPTION_SECRET must be set in production")
