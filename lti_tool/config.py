"""Settings for every CX Academy process, read from the environment at the edge.

This is the only module that reads ``os.environ``. Each process builds one
``Settings`` at start-up; bad values fail there, not on the first request.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lti_tool.errors import ConfigError
from xapi.iris import normalise_base

#: Where the embedded default keeps its files (SQLite, broker folders, LRS data).
DEFAULT_VAR_DIR = Path(__file__).resolve().parent.parent / "var"

#: The destination the single CXA_LRS_ENDPOINT set-up delivers to (and rows recorded before any
#: LRS was configured wait for).
DEFAULT_DESTINATION = "default"

# Destination names end up in CLI filters, log lines and health JSON keys: keep them plain.
_DESTINATION_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")

# A host name (RFC 1123 labels) or an IPv4/IPv6 literal, as CXA_ALLOWED_PRIVATE_HOSTS lists them.
_HOST = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
    r"|[0-9a-f:.]+)$"
)

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


def _float(env: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as err:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from err
    if not value >= minimum:  # also refuses nan
        raise ConfigError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


@dataclass(frozen=True)
class LRSDestination:
    """One LRS statements are fanned out to; each is delivered on its own."""

    # Stable key of the destination's outbox rows and state; renaming it starts afresh.
    name: str
    # xAPI base URL, e.g. https://lrs.example.com/xAPI (statements go to <endpoint>/statements).
    endpoint: str
    # HTTP Basic credentials; both empty for an LRS without authentication.
    username: str = ""
    password: str = ""
    # X-Experience-API-Version header this LRS expects (xAPI 1.0.3 Part Three 6.2).
    version: str = "1.0.3"
    # Statements per POST; some hosted LRSs cap the body size, so it is per destination.
    batch_size: int = 50
    # OAuth2 client credentials (RFC 6749 4.4) for LRSs that want a bearer token instead of
    # Basic auth: all three, or none.
    token_url: str = ""
    client_id: str = ""
    client_secret: str = ""

    def check(self, variable: str = "CXA_LRS_DESTINATIONS") -> None:
        where = f"{variable}[{self.name!r}]"
        if not _DESTINATION_NAME.match(self.name):
            raise ConfigError(
                f"{variable}: name {self.name!r} must be lower-case letters, digits, "
                "'.', '_' or '-' (at most 100)"
            )
        if not self.endpoint.startswith(("http://", "https://")):
            raise ConfigError(f"{where}.endpoint must be an http(s) URL: {self.endpoint!r}")
        if bool(self.username) != bool(self.password):
            raise ConfigError(f"{where}: username and password go together")
        oauth = (self.token_url, self.client_id, self.client_secret)
        if any(oauth) and not all(oauth):
            raise ConfigError(f"{where}: token_url, client_id and client_secret go together")
        if all(oauth) and self.username:
            raise ConfigError(f"{where}: use Basic auth or OAuth2 client credentials, not both")
        if self.token_url and not self.token_url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}.token_url must be an http(s) URL: {self.token_url!r}")
        if self.version not in {"1.0.3", "1.0.2", "1.0.1", "1.0.0", "2.0.0"}:
            raise ConfigError(f"{where}.version must be an xAPI version, got {self.version!r}")
        if self.batch_size < 1:
            raise ConfigError(f"{where}.batch_size must be at least 1, got {self.batch_size}")


def _destinations(
    env: Mapping[str, str], variable: str = "CXA_LRS_DESTINATIONS"
) -> tuple[LRSDestination, ...]:
    raw = env.get(variable, "").strip()
    if not raw:
        return ()
    try:
        items = json.loads(raw)
    except ValueError as err:
        raise ConfigError(f"{variable} must be a JSON list: {err}") from err
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ConfigError(f"{variable} must be a JSON list of objects")
    fields = set(LRSDestination.__dataclass_fields__)
    destinations = []
    for item in items:
        unknown = set(item) - fields
        if unknown or "name" not in item or "endpoint" not in item:
            raise ConfigError(
                f"{variable}: each entry needs name and endpoint and may have "
                f"{', '.join(sorted(fields - {'name', 'endpoint'}))}; got {sorted(item)}"
            )
        try:
            destinations.append(LRSDestination(**item))
        except TypeError as err:
            raise ConfigError(f"{variable}: {err}") from err
    return tuple(destinations)


@dataclass(frozen=True)
class Settings:
    """One process's configuration. Defaults are the embedded demo set-up."""

    # Public base URL of the tool, as the LMS and the learner's browser reach it.
    base_url: str = "http://127.0.0.1:8000"
    # Signs Flask session cookies and CSRF tokens. In production: 32 random bytes or more.
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
    # Hosts (names or IP literals, comma-separated) that platform URLs may point at although
    # they are loopback, private or link-local. Production refuses such addresses otherwise,
    # so a registration cannot make the tool fetch from inside its own network.
    allowed_private_hosts: tuple[str, ...] = ()
    # Seconds an old tool key keeps being published after rotation, so platforms that cached it
    # can still verify what it signed.
    key_overlap_seconds: int = 7 * 24 * 3600
    # xAPI destination. Empty endpoint: statements stay in the outbox.
    lrs_endpoint: str = ""
    lrs_username: str = ""
    lrs_password: str = ""
    # Statements sent per POST to the LRS.
    lrs_batch_size: int = 50
    # More LRSs, as a JSON list of {name, endpoint, username, password, version, batch_size};
    # every statement goes to each of them and to "default" (CXA_LRS_ENDPOINT) when that is set.
    lrs_destinations: tuple[LRSDestination, ...] = ()
    # Seconds a part-filled batch may wait for more statements before it is sent anyway;
    # 0 sends at once (batches still fill up on their own while an LRS is slow).
    lrs_batch_max_age: float = 0.0
    # Failed attempts after which a statement is dead-lettered with its last error.
    lrs_max_attempts: int = 20
    # Ceiling of the exponential back-off between attempts to an unavailable LRS.
    lrs_max_backoff_seconds: float = 1800.0
    # Seconds between the periodic outbox sweeps that catch rows whose task message was lost.
    outbox_sweep_seconds: int = 30
    # Lanes each destination's stream is split into by learner: up to this many workers
    # deliver to one LRS at once, each learner's statements still in order. Workers apply it
    # (PostgreSQL waits for batches in flight to finish); give every worker the same value.
    outbox_lanes: int = 8
    # With a Redis state store, a worker woken by the delivery doorbell waits this many
    # seconds for more commits before it delivers, so one POST carries more statements
    # (docs/decisions/0022); it adds as much to the delivery lag at a trickle.
    delivery_gather_seconds: float = 0.1
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
    # Celery queue of this deployment's tasks, so two deployments (or test runs) can share
    # one broker without taking each other's work.
    task_queue: str = "cxa"
    # A learner session ends after this many seconds without a request (must not exceed the
    # absolute lifetime below); a learner who comes back later launches again from the LMS.
    session_idle_seconds: int = 2 * 3600
    # Absolute lifetime of a learner session, however active: a working day.
    session_max_seconds: int = 12 * 3600
    # Bearer token for the operator endpoints (/healthz/delivery) from other hosts. Empty:
    # those answer only direct loopback requests. At least 32 characters when set, e.g.
    # `python -c "import secrets; print(secrets.token_urlsafe(32))"`.
    operator_token: str = ""
    # Accept a launch whose browser proves nothing (no platform storage answer, no cookies
    # kept) on the server-side state alone. Off refuses such launches: safer, but Safari
    # learners inside an LMS without LTI Platform Storage then cannot launch (decision 0006).
    launch_unbound_fallback: bool = True
    # Requests to /lti/login and /lti/launch one client address may make (Flask-Limiter
    # syntax, e.g. "30/minute;300/hour"); a classroom behind one NAT address shares it.
    rate_limit_per_client: str = "120/minute"
    # The same for everything that names one platform (issuer), whatever its address.
    rate_limit_per_platform: str = "6000/minute"
    # Reverse proxies in front of the tool that set X-Forwarded-For/-Proto (nginx: 1).
    # 0 trusts no header: the client address is the TCP peer.
    proxy_hops: int = 0
    # More origins allowed to frame the tool, besides those of the registered platforms
    # (space-separated CSP sources, e.g. "https://*.instructure.com").
    frame_ancestors_extra: str = ""
    # Hosts besides the platform's own (its issuer and token URL origins) whose LTI service
    # URLs (AGS line items, results) are trusted, comma-separated: for an LMS that serves its
    # APIs from another host name. Anything else is refused and logged.
    service_allowed_hosts: tuple[str, ...] = ()
    # Let any LMS register itself at /lti/register by LTI Dynamic Registration, without an
    # invitation (`cxa platform invite`). Off: only invitation links register.
    open_registration: bool = False
    # Registrations made by Dynamic Registration wait for an operator (`cxa platform
    # activate`) before anyone can launch; off: they are active at once.
    new_registrations_pending: bool = False
    # Failed attempts (LMS outages) after which a score is dead-lettered with its last error.
    grade_max_attempts: int = 20
    # Seconds between reconciliations: reading each line item's results back from the LMS.
    grade_reconcile_seconds: int = 900
    # Base of every xAPI IRI we mint (activities, our verbs, types, extensions, the profile):
    # a URL the operator controls, so GET on an activity IRI returns its definition. Empty:
    # CXA_BASE_URL + "/xapi/". Choose it once: statements already sent carry these IRIs.
    xapi_iri_base: str = ""
    # The organisation that issues Open Badges for achieved goals (the credentials' issuer
    # Profile): its name, home page (empty: CXA_BASE_URL) and contact e-mail (empty: none).
    badge_issuer_name: str = "CX Academy"
    badge_issuer_url: str = ""
    badge_issuer_email: str = ""
    # LTI role URIs (comma-separated, matched exactly) that see the organisation-wide goals
    # overview besides the LMS's institution and system Administrator roles, e.g. a custom
    # "L&D" role your LMS sends. Empty: administrators only.
    goals_insight_roles: tuple[str, ...] = ()
    # External LRSs the goal engine also counts learning from (statements about our learners
    # from other tools), as a JSON list of {name, endpoint, username, password, version,
    # token_url, client_id, client_secret}; each is read with its own cursor (batch_size is
    # the page size asked for). Empty: goals count only what CX Academy records.
    goal_sources: tuple[LRSDestination, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``CXA_*`` variables; raise ConfigError naming a bad one."""
        env = os.environ if env is None else env
        defaults = cls()
        settings = cls(
            **{
                field_name: parse(env, variable, getattr(defaults, field_name))
                for field_name, variable, parse in _VARIABLES
            }
        )
        settings.check()
        return settings

    def as_env(self) -> dict[str, str]:
        """The ``CXA_*`` variables that rebuild these settings in a child process."""
        return {
            variable: _format(getattr(self, field_name)) for field_name, variable, _ in _VARIABLES
        }

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests and the demo runner use this)."""
        updated = replace(self, **changes)  # type: ignore[arg-type]
        updated.check()
        return updated

    @property
    def destinations(self) -> tuple[LRSDestination, ...]:
        """Every LRS to deliver to: CXA_LRS_ENDPOINT as "default", then CXA_LRS_DESTINATIONS."""
        single: tuple[LRSDestination, ...] = ()
        if self.lrs_endpoint:
            single = (
                LRSDestination(
                    name=DEFAULT_DESTINATION,
                    endpoint=self.lrs_endpoint,
                    username=self.lrs_username,
                    password=self.lrs_password,
                    batch_size=self.lrs_batch_size,
                ),
            )
        return single + self.lrs_destinations

    def require_destination(self, name: str) -> LRSDestination:
        for destination in self.destinations:
            if destination.name == name:
                return destination
        known = ", ".join(d.name for d in self.destinations) or "none configured"
        raise ConfigError(f"no LRS destination named {name!r} ({known})")

    def check(self) -> None:
        """Cross-checks that would otherwise fail late and obscurely."""
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"CXA_BASE_URL must be an http:// or https:// URL with a host: {self.base_url}"
            )
        try:
            iri_host = urlsplit(self.iri_base).hostname or ""
        except ValueError as err:
            raise ConfigError(f"CXA_XAPI_IRI_BASE: {err}") from err
        # RFC 2606 reserves .example: IRIs there resolve nowhere and belong to no one.
        if self.production and (iri_host == "example" or iri_host.endswith(".example")):
            raise ConfigError(
                f"CXA_XAPI_IRI_BASE must be a URL you control, not a reserved name: {self.iri_base}"
            )
        if self.lrs_endpoint and not self.lrs_endpoint.startswith(("http://", "https://")):
            raise ConfigError(f"CXA_LRS_ENDPOINT must be an http(s) URL: {self.lrs_endpoint}")
        names = [d.name for d in self.destinations]
        if len(set(names)) != len(names):
            raise ConfigError(
                f"LRS destination names must be unique ({DEFAULT_DESTINATION!r} is taken by "
                f"CXA_LRS_ENDPOINT): {names}"
            )
        for destination in self.destinations:
            destination.check()
        for goal_source in self.goal_sources:
            goal_source.check("CXA_GOAL_SOURCES")
        source_names = [goal_source.name for goal_source in self.goal_sources]
        if len(set(source_names)) != len(source_names):
            raise ConfigError(f"CXA_GOAL_SOURCES names must be unique: {source_names}")
        if self.state_store_url and not self.state_store_url.startswith(("redis://", "rediss://")):
            raise ConfigError("CXA_STATE_STORE_URL must be empty (database) or a redis:// URL")
        if not _DESTINATION_NAME.match(self.task_queue):
            raise ConfigError(
                f"CXA_TASK_QUEUE must be lower-case letters, digits, '.', '_' or '-': "
                f"{self.task_queue!r}"
            )
        for host in self.allowed_private_hosts:
            if not _HOST.match(host):
                raise ConfigError(
                    f"CXA_ALLOWED_PRIVATE_HOSTS must list host names or IP addresses "
                    f"(no scheme, port or path), got {host!r}"
                )
        if self.operator_token and len(self.operator_token) < 32:
            raise ConfigError(
                "CXA_OPERATOR_TOKEN must be empty (loopback only) or at least 32 characters"
            )
        if self.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError(
                f"CXA_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR: {self.log_level}"
            )
        if self.session_idle_seconds > self.session_max_seconds:
            raise ConfigError(
                "CXA_SESSION_IDLE_SECONDS must not exceed CXA_SESSION_MAX_SECONDS "
                f"({self.session_idle_seconds} > {self.session_max_seconds})"
            )
        for variable, limit in (
            ("CXA_RATE_LIMIT_PER_CLIENT", self.rate_limit_per_client),
            ("CXA_RATE_LIMIT_PER_PLATFORM", self.rate_limit_per_platform),
        ):
            _check_rate_limit(variable, limit)
        for source in self.frame_ancestors_extra.split():
            if not _FRAME_SOURCE.match(source):
                raise ConfigError(
                    f"CXA_FRAME_ANCESTORS_EXTRA: {source!r} is not an origin such as "
                    "https://lms.example.edu or https://*.example.edu"
                )
        if not self.badge_issuer_name.strip():
            raise ConfigError("CXA_BADGE_ISSUER_NAME must not be empty")
        if self.badge_issuer_url and urlsplit(self.badge_issuer_url).scheme not in (
            "http",
            "https",
        ):
            raise ConfigError(
                f"CXA_BADGE_ISSUER_URL must be an http(s) URL: {self.badge_issuer_url}"
            )
        if self.badge_issuer_email and not re.fullmatch(
            r"[^@\s]+@[^@\s]+", self.badge_issuer_email
        ):
            raise ConfigError(
                f"CXA_BADGE_ISSUER_EMAIL must be an e-mail address: {self.badge_issuer_email}"
            )
        if self.production:
            self._check_production()

    def _check_production(self) -> None:
        if self.demo_lms:
            raise ConfigError("CXA_DEMO_LMS must be off when CXA_BASE_URL is https (production)")
        for variable, value in (
            ("CXA_SECRET_KEY", self.secret_key),
            ("CXA_KEY_ENCRYPTION_SECRET", self.key_encryption_secret),
        ):
            _require_strong_secret(variable, value)
        if self.secret_key == self.key_encryption_secret:
            # One leaked value must not both forge form tokens and decrypt the signing keys.
            raise ConfigError("CXA_SECRET_KEY and CXA_KEY_ENCRYPTION_SECRET must differ")

    @property
    def iri_base(self) -> str:
        """The xAPI IRI base in effect, with one trailing slash."""
        return normalise_base(self.xapi_iri_base or self.base_url + "/xapi/")

    @property
    def production(self) -> bool:
        """An https base URL means production, whatever the case of its scheme."""
        return is_production_url(self.base_url)


def is_production_url(url: str) -> bool:
    # urlsplit lower-cases the scheme, so "HTTPS://" cannot slip past the production checks.
    return urlsplit(url).scheme == "https"


#: What `secrets.token_urlsafe(32)` prints: 32 random bytes as 43 URL-safe characters.
MIN_SECRET_LENGTH = 43
#: Least entropy estimated from the secret's own character frequencies (length times the
#: Shannon entropy per character): random 43-character tokens score 180-230, hex ones more,
#: a word or a character repeated to length far less.
MIN_SECRET_BITS = 160
_GENERATE_COMMAND = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


def _require_strong_secret(variable: str, value: str) -> None:
    """Refuse a production secret shorter or plainer than 32 random bytes; never echo it."""
    counts = Counter(value)
    bits = -sum(n * math.log2(n / len(value)) for n in counts.values()) if value else 0.0
    if len(value) < MIN_SECRET_LENGTH or bits < MIN_SECRET_BITS:
        raise ConfigError(
            f"{variable} must be at least 32 random bytes in production "
            f"({MIN_SECRET_LENGTH} or more URL-safe characters without obvious repetition; "
            f"got {len(value)} characters). Generate one with: {_GENERATE_COMMAND}"
        )


# A CSP host source with a scheme: https://host[:port], the host may start with "*.".
_FRAME_SOURCE = re.compile(r"^https?://(\*\.)?[a-z0-9.-]+(:[0-9]{1,5})?$", re.IGNORECASE)


def _check_rate_limit(variable: str, value: str) -> None:
    # limits is Flask-Limiter's parser; reading it here makes a typo fail at start-up.
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError as err:
        raise ConfigError(
            f"{variable} must look like '30/minute' or '30/minute;300/hour': {err}"
        ) from err


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name, default)


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name, default).rstrip("/")


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    return Path(env.get(name, str(default)))


def _host_list(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    return tuple(h.strip().lower() for h in raw.split(",") if h.strip())


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _upper(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name, default).upper()


def _destination_list(
    env: Mapping[str, str], name: str, default: tuple[LRSDestination, ...]
) -> tuple[LRSDestination, ...]:
    return _destinations(env, name) if env.get(name, "").strip() else default


def _hosts(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    hosts = tuple(h.strip().lower() for h in raw.split(",") if h.strip())
    for host in hosts:
        if not re.fullmatch(r"[a-z0-9.-]+", host):
            raise ConfigError(f"{name} must list host names separated by commas, got {host!r}")
    return hosts


def _format(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple) and all(isinstance(item, str) for item in value):
        return ",".join(value)
    if isinstance(value, tuple):
        if all(isinstance(item, str) for item in value):
            return ",".join(value)
        return json.dumps([asdict(item) for item in value])
    return str(value)


#: Each setting, the variable that sets it and how its text is read: the one table both
#: ``Settings.from_env`` and ``Settings.as_env`` follow.
_VARIABLES: tuple[tuple[str, str, Callable[[Mapping[str, str], str, Any], Any]], ...] = (
    ("base_url", "CXA_BASE_URL", _url),
    ("secret_key", "CXA_SECRET_KEY", _text),
    ("key_encryption_secret", "CXA_KEY_ENCRYPTION_SECRET", _text),
    ("database_url", "CXA_DATABASE_URL", _text),
    ("broker_url", "CXA_BROKER_URL", _text),
    ("broker_dir", "CXA_BROKER_DIR", _path),
    ("state_store_url", "CXA_STATE_STORE_URL", _text),
    ("launch_state_ttl", "CXA_LAUNCH_STATE_TTL", partial(_int, minimum=30)),
    ("jwks_cache_ttl", "CXA_JWKS_CACHE_TTL", _int),
    ("allowed_private_hosts", "CXA_ALLOWED_PRIVATE_HOSTS", _host_list),
    ("key_overlap_seconds", "CXA_KEY_OVERLAP_SECONDS", _int),
    ("lrs_endpoint", "CXA_LRS_ENDPOINT", _text),
    ("lrs_username", "CXA_LRS_USERNAME", _text),
    ("lrs_password", "CXA_LRS_PASSWORD", _text),
    ("lrs_batch_size", "CXA_LRS_BATCH_SIZE", partial(_int, minimum=1)),
    ("lrs_destinations", "CXA_LRS_DESTINATIONS", _destination_list),
    ("lrs_batch_max_age", "CXA_LRS_BATCH_MAX_AGE", _float),
    ("lrs_max_attempts", "CXA_LRS_MAX_ATTEMPTS", partial(_int, minimum=1)),
    ("lrs_max_backoff_seconds", "CXA_LRS_MAX_BACKOFF_SECONDS", partial(_float, minimum=1.0)),
    ("outbox_sweep_seconds", "CXA_OUTBOX_SWEEP_SECONDS", partial(_int, minimum=1)),
    ("outbox_lanes", "CXA_OUTBOX_LANES", partial(_int, minimum=1)),
    ("delivery_gather_seconds", "CXA_DELIVERY_GATHER_SECONDS", _float),
    ("demo_lms", "CXA_DEMO_LMS", _bool),
    ("demo_lms_url", "CXA_DEMO_LMS_URL", _url),
    ("var_dir", "CXA_VAR_DIR", _path),
    ("secure_cookies", "CXA_SECURE_COOKIES", _bool),
    ("log_level", "CXA_LOG_LEVEL", _upper),
    ("task_queue", "CXA_TASK_QUEUE", _text),
    ("session_idle_seconds", "CXA_SESSION_IDLE_SECONDS", partial(_int, minimum=60)),
    ("session_max_seconds", "CXA_SESSION_MAX_SECONDS", partial(_int, minimum=60)),
    ("operator_token", "CXA_OPERATOR_TOKEN", _text),
    ("launch_unbound_fallback", "CXA_LAUNCH_UNBOUND_FALLBACK", _bool),
    ("rate_limit_per_client", "CXA_RATE_LIMIT_PER_CLIENT", _text),
    ("rate_limit_per_platform", "CXA_RATE_LIMIT_PER_PLATFORM", _text),
    ("proxy_hops", "CXA_PROXY_HOPS", _int),
    ("frame_ancestors_extra", "CXA_FRAME_ANCESTORS_EXTRA", _text),
    ("service_allowed_hosts", "CXA_SERVICE_ALLOWED_HOSTS", _hosts),
    ("open_registration", "CXA_OPEN_REGISTRATION", _bool),
    ("new_registrations_pending", "CXA_NEW_REGISTRATIONS_PENDING", _bool),
    ("grade_max_attempts", "CXA_GRADE_MAX_ATTEMPTS", partial(_int, minimum=1)),
    ("grade_reconcile_seconds", "CXA_GRADE_RECONCILE_SECONDS", partial(_int, minimum=10)),
    ("xapi_iri_base", "CXA_XAPI_IRI_BASE", _text),
    ("badge_issuer_name", "CXA_BADGE_ISSUER_NAME", _text),
    ("badge_issuer_url", "CXA_BADGE_ISSUER_URL", _url),
    ("badge_issuer_email", "CXA_BADGE_ISSUER_EMAIL", _text),
    ("goals_insight_roles", "CXA_GOALS_INSIGHT_ROLES", _list),
    ("goal_sources", "CXA_GOAL_SOURCES", _destination_list),
)
