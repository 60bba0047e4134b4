"""The yardstick for benchmarks/launch.py: a bare pylti1p3 tool, written as its docs show.

OIDC login and launch validation through pylti1p3's Flask adapters, launch data and the
platform's public key cached with Flask-Caching (Redis, so the gunicorn workers share the
OIDC state as our tool's do), no database, and a small landing page. It leaves out what CX
Academy adds (single-use nonces, the learner's records, the statement outbox); that is the
point of the comparison. ``enable_check_cookies()`` is left off because the benchmark's
client runs no scripts.

Not part of the product: it reads its own settings from the environment (the benchmark
passes them) and is never imported by the tool.
"""

from __future__ import annotations

import html
import json
import os
from typing import Any

from flask import Flask
from flask_caching import Cache
from pylti1p3.contrib.flask import (
    FlaskCacheDataStorage,
    FlaskMessageLaunch,
    FlaskOIDCLogin,
    FlaskRequest,
)
from pylti1p3.tool_config import ToolConfDict


def create_app() -> Flask:
    settings: dict[str, Any] = json.loads(os.environ["BENCH_BASELINE_SETTINGS"])
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings["secret_key"],
        CACHE_TYPE="RedisCache",
        CACHE_REDIS_URL=settings["redis_url"],
        CACHE_KEY_PREFIX="bench-baseline:",
        CACHE_DEFAULT_TIMEOUT=600,
    )
    cache = Cache(app)
    tool_conf = ToolConfDict(settings["platforms"])
    for issuer, client_id in settings["private_keys"]:
        tool_conf.set_private_key(issuer, settings["private_key_pem"], client_id=client_id)
    launch_url = settings["base_url"] + "/launch"

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        flask_request = FlaskRequest()
        storage = FlaskCacheDataStorage(cache)
        oidc = FlaskOIDCLogin(flask_request, tool_conf, launch_data_storage=storage)
        return oidc.redirect(flask_request.get_param("target_link_uri") or launch_url)

    @app.post("/launch")
    def launch() -> str:
        flask_request = FlaskRequest()
        storage = FlaskCacheDataStorage(cache)
        message = FlaskMessageLaunch(flask_request, tool_conf, launch_data_storage=storage)
        message.set_public_key_caching(storage, cache_lifetime=7200)
        data = message.get_launch_data()
        name = html.escape(str(data.get("name", "learner")))
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Welcome</title>"
            f"</head><body><h1>Welcome, {name}</h1><p>baseline-landing</p></body></html>"
        )

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    return app
