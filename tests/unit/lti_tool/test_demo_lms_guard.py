"""The demo LMS launches anyone without a password: it is never built for production URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from lti_tool.demo.lms import DemoLMSConfig, create_demo_lms, create_demo_lms_from_env
from lti_tool.errors import ConfigError
from tests.unit.lti_tool.test_config import PRODUCTION


@pytest.mark.parametrize(
    ("lms_url", "tool_url"),
    [
        ("http://127.0.0.1:8001", "https://cxa.example.edu"),
        ("http://127.0.0.1:8001", "HTTPS://cxa.example.edu"),
        ("HTTPS://lms.example.edu", "http://127.0.0.1:8000"),
    ],
)
def test_the_factory_refuses_production_urls(tmp_path: Path, lms_url: str, tool_url: str) -> None:
    with pytest.raises(ConfigError, match="never built for production"):
        create_demo_lms(DemoLMSConfig(lms_url, tool_url, tmp_path))


def test_the_gunicorn_entry_point_refuses_production_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**PRODUCTION, "CXA_BASE_URL": "HTTPS://cxa.example.edu"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CXA_VAR_DIR", str(tmp_path))

    with pytest.raises(ConfigError, match="never built for production"):
        create_demo_lms_from_env()


def test_the_factory_builds_the_loopback_demo(tmp_path: Path) -> None:
    app = create_demo_lms(DemoLMSConfig("http://127.0.0.1:8001", "http://127.0.0.1:8000", tmp_path))

    assert app.test_client().get("/").status_code == 200
