"""Settings.from_env: the embedded defaults, and every bad value refused by name at start-up."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from lti_tool.config import DEFAULT_VAR_DIR, Settings
from lti_tool.errors import ConfigError

PRODUCTION = {
    "CXA_BASE_URL": "https://cxa.example.edu",
    # What `secrets.token_urlsafe(32)` prints, as the error message tells operators to run.
    "CXA_SECRET_KEY": "Jx3vQ9_kLmT2wR8pZs5YbN1cHdF7gA0eUiO4tKqVnXy",
    "CXA_KEY_ENCRYPTION_SECRET": "r7WmP2xQ_s9KdL4vN8cBzT1gHjF6yA3eUo0iVbGkRt5",
}
SECRETS = ("CXA_SECRET_KEY", "CXA_KEY_ENCRYPTION_SECRET")


def test_an_empty_environment_gives_the_embedded_demo_defaults() -> None:
    settings = Settings.from_env({})

    assert settings == Settings()
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.database_url == f"sqlite:///{DEFAULT_VAR_DIR / 'cxa.db'}"
    assert settings.broker_url == "filesystem://localhost/"
    assert settings.state_store_url == ""
    assert settings.launch_state_ttl == 600
    assert settings.lrs_endpoint == ""
    assert settings.demo_lms is False
    assert settings.secure_cookies is False
    assert settings.log_level == "INFO"


def test_values_from_the_environment_are_read_and_tidied() -> None:
    settings = Settings.from_env(
        {
            "CXA_BASE_URL": "http://localhost:9000/",
            "CXA_DEMO_LMS_URL": "http://localhost:9001/",
            "CXA_LAUNCH_STATE_TTL": "30",
            "CXA_LRS_BATCH_SIZE": "7",
            "CXA_DEMO_LMS": "Yes",
            "CXA_SECURE_COOKIES": "off",
            "CXA_LOG_LEVEL": "debug",
            "CXA_STATE_STORE_URL": "redis://127.0.0.1:6379/2",
            "CXA_LRS_ENDPOINT": "http://127.0.0.1:8100/xAPI/",
            "CXA_VAR_DIR": "/srv/cxa",
        }
    )

    assert settings.base_url == "http://localhost:9000"
    assert settings.demo_lms_url == "http://localhost:9001"
    assert settings.launch_state_ttl == 30
    assert settings.lrs_batch_size == 7
    assert settings.demo_lms is True
    assert settings.secure_cookies is False
    assert settings.log_level == "DEBUG"
    assert settings.state_store_url == "redis://127.0.0.1:6379/2"
    assert settings.lrs_endpoint == "http://127.0.0.1:8100/xAPI/"
    assert settings.var_dir == Path("/srv/cxa")


def test_an_empty_number_falls_back_to_the_default() -> None:
    assert Settings.from_env({"CXA_LAUNCH_STATE_TTL": " "}).launch_state_ttl == 600


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("CXA_LAUNCH_STATE_TTL", "abc", "whole number"),
        ("CXA_LAUNCH_STATE_TTL", "5", "at least 30"),
        ("CXA_LRS_BATCH_SIZE", "0", "at least 1"),
        ("CXA_JWKS_CACHE_TTL", "-1", "at least 0"),
        ("CXA_DEMO_LMS", "maybe", "true or false"),
        ("CXA_SECURE_COOKIES", "2", "true or false"),
        ("CXA_BASE_URL", "ftp://x", "http:// or https://"),
        ("CXA_BASE_URL", "https://", "with a host"),
        ("CXA_LRS_ENDPOINT", "notaurl", "http(s) URL"),
        ("CXA_STATE_STORE_URL", "memcached://x", "redis://"),
        ("CXA_LOG_LEVEL", "LOUD", "DEBUG, INFO, WARNING or ERROR"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(variable: str, value: str, reason: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({variable: value})

    message = str(refused.value)
    assert variable in message
    assert reason in message


def test_production_settings_with_real_secrets_are_accepted() -> None:
    settings = Settings.from_env(PRODUCTION)

    assert settings.base_url == "https://cxa.example.edu"
    assert settings.demo_lms is False


def test_production_refuses_the_demo_lms() -> None:
    with pytest.raises(ConfigError, match="CXA_DEMO_LMS must be off"):
        Settings.from_env({**PRODUCTION, "CXA_DEMO_LMS": "true"})


@pytest.mark.parametrize("variable", SECRETS)
def test_production_refuses_a_default_secret(variable: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != variable}

    with pytest.raises(ConfigError, match=f"{variable} must be at least 32 random bytes"):
        Settings.from_env(env)


@pytest.mark.parametrize("variable", SECRETS)
@pytest.mark.parametrize(
    "weak",
    [
        "",
        "x",
        "a-real-flask-secret",
        "a" * 64,
        "ab" * 40,
        "password-" * 6,
        secrets.token_urlsafe(31)[:42],
    ],
    ids=["empty", "one-letter", "short", "one-character", "two-characters", "a-word", "42-chars"],
)
def test_production_refuses_a_weak_secret_and_says_how_to_make_one(
    variable: str, weak: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({**PRODUCTION, variable: weak})

    message = str(refused.value)
    assert f"{variable} must be at least 32 random bytes" in message
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in message
    if len(weak) > 1:
        assert weak not in message, "a refused secret must never be echoed into logs"


@pytest.mark.parametrize(
    "generated", [secrets.token_urlsafe(32), secrets.token_hex(32), secrets.token_urlsafe(64)]
)
def test_production_accepts_generated_secrets(generated: str) -> None:
    other = secrets.token_urlsafe(32)

    settings = Settings.from_env(
        {**PRODUCTION, "CXA_SECRET_KEY": generated, "CXA_KEY_ENCRYPTION_SECRET": other}
    )

    assert settings.secret_key == generated


def test_production_refuses_one_secret_for_both_purposes() -> None:
    env = {**PRODUCTION, "CXA_KEY_ENCRYPTION_SECRET": PRODUCTION["CXA_SECRET_KEY"]}

    with pytest.raises(ConfigError, match="must differ"):
        Settings.from_env(env)


@pytest.mark.parametrize("base_url", ["HTTPS://cxa.example.edu", "Https://cxa.example.edu"])
def test_production_is_recognised_whatever_the_scheme_case(base_url: str) -> None:
    weak = {"CXA_BASE_URL": base_url, "CXA_SECRET_KEY": "x", "CXA_KEY_ENCRYPTION_SECRET": "y"}
    with pytest.raises(ConfigError, match="CXA_SECRET_KEY"):
        Settings.from_env(weak)
    with pytest.raises(ConfigError, match="CXA_DEMO_LMS must be off"):
        Settings.from_env({**PRODUCTION, "CXA_BASE_URL": base_url, "CXA_DEMO_LMS": "1"})

    assert Settings.from_env({**PRODUCTION, "CXA_BASE_URL": base_url}).production


def test_plain_http_is_not_production() -> None:
    assert not Settings.from_env({"CXA_BASE_URL": "http://cxa.example.edu"}).production


def test_session_idle_timeout_cannot_outlive_the_session() -> None:
    with pytest.raises(ConfigError, match="CXA_SESSION_IDLE_SECONDS must not exceed"):
        Settings.from_env({"CXA_SESSION_IDLE_SECONDS": "7200", "CXA_SESSION_MAX_SECONDS": "3600"})


def test_the_default_secrets_are_fine_on_plain_http() -> None:
    # The loopback demo runs with the built-in secrets; only https means production.
    settings = Settings.from_env({"CXA_BASE_URL": "http://localhost:8000", "CXA_DEMO_LMS": "1"})

    assert settings.secret_key == Settings.secret_key
    assert settings.demo_lms is True


def test_overrides_are_checked_like_the_environment() -> None:
    with pytest.raises(ConfigError, match="CXA_LOG_LEVEL"):
        Settings().with_overrides(log_level="LOUD")


def test_settings_survive_the_trip_through_the_environment(tmp_path: Path) -> None:
    """Child processes (worker, beat, demo) are configured with as_env(): nothing may be lost."""
    destinations = json.dumps(
        [{"name": "lake", "endpoint": "https://lake.example/xAPI/", "batch_size": 7}]
    )
    original = Settings.from_env(
        {
            "CXA_BASE_URL": "http://127.0.0.1:9000",
            "CXA_DEMO_LMS": "1",
            "CXA_VAR_DIR": str(tmp_path),
            "CXA_LRS_DESTINATIONS": destinations,
            "CXA_LRS_BATCH_MAX_AGE": "2.5",
            "CXA_TASK_QUEUE": "tenant-a",
        }
    )
    assert Settings.from_env(original.as_env()) == original


def test_a_bad_task_queue_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="CXA_TASK_QUEUE"):
        Settings.from_env({"CXA_TASK_QUEUE": "Has Spaces"})


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("CXA_RATE_LIMIT_PER_CLIENT", "lots", "must look like '30/minute'"),
        ("CXA_RATE_LIMIT_PER_PLATFORM", "10 per fortnight", "must look like '30/minute'"),
        ("CXA_FRAME_ANCESTORS_EXTRA", "*", "is not an origin"),
        ("CXA_FRAME_ANCESTORS_EXTRA", "https://ok.example 'unsafe-inline'", "is not an origin"),
        ("CXA_LAUNCH_UNBOUND_FALLBACK", "maybe", "must be true or false"),
        ("CXA_PROXY_HOPS", "-1", "at least 0"),
    ],
)
def test_bad_launch_protection_settings_are_refused(variable: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError, match=variable) as refused:
        Settings.from_env({variable: value})
    assert words in str(refused.value)


def test_launch_protection_settings_are_read() -> None:
    settings = Settings.from_env(
        {
            "CXA_RATE_LIMIT_PER_CLIENT": "30/minute;300/hour",
            "CXA_FRAME_ANCESTORS_EXTRA": "https://*.example.edu https://lms.example.org:8443",
            "CXA_LAUNCH_UNBOUND_FALLBACK": "0",
            "CXA_PROXY_HOPS": "1",
        }
    )
    assert settings.rate_limit_per_client == "30/minute;300/hour"
    assert settings.frame_ancestors_extra == "https://*.example.edu https://lms.example.org:8443"
    assert settings.launch_unbound_fallback is False
    assert settings.proxy_hops == 1
