"""The compose file publishes only nginx, and gunicorn trusts forwarded headers only from it.

No Docker engine runs here, so the wiring is read from the files; nginx itself is run with
deploy/nginx.conf by tests/integration/test_reverse_proxy.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def services() -> dict[str, Any]:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return compose["services"]  # type: ignore[no-any-return]


def test_only_the_proxy_is_published() -> None:
    published = {name for name, service in services().items() if service.get("ports")}
    assert published == {"proxy"}
    assert services()["web"]["expose"] == ["8000"]


def test_the_proxy_runs_our_nginx_conf() -> None:
    volumes = services()["proxy"]["volumes"]
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in volumes


def test_gunicorn_trusts_forwarded_headers_from_the_proxy_alone() -> None:
    proxy_address = services()["proxy"]["networks"]["default"]["ipv4_address"]
    web_environment = services()["web"]["environment"]
    assert web_environment["CXA_FORWARDED_ALLOW_IPS"] == proxy_address
    # The app's other settings still reach the web process through the merge.
    assert "CXA_DATABASE_URL" in web_environment
    for name, service in services().items():
        if name != "web":
            assert "CXA_FORWARDED_ALLOW_IPS" not in service.get("environment", {}), name


def test_nginx_replaces_forwarded_headers_instead_of_passing_the_clients_on() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf
    assert "$proxy_add_x_forwarded_for" not in conf
    assert re.search(r"proxy_set_header X-Forwarded-Proto \$scheme;", conf)


def test_web_and_workers_read_the_same_delivery_and_proxy_settings() -> None:
    # The web fans out to the destinations it is told of (decision 0004); a worker told of
    # others would strand rows. Rate limits must count learners, not the proxy's address.
    for name in ("web", "worker", "beat"):
        environment = services()[name]["environment"]
        assert "CXA_LRS_DESTINATIONS" in environment, name
        assert environment["CXA_PROXY_HOPS"] == "1", name
