"""The framework floor for benchmarks/launch.py: Flask under gunicorn doing nothing else.

A launch is several HTTP requests to the tool, and each costs gunicorn's and Flask's own
work (parsing, routing, contexts, the access log line) before any LTI or application code
runs. This app answers the same requests with the same status codes and no work at all:
the login's redirect, the id_token form_post, and the landing page, either after a 303 (as
CX Academy answers, three requests) or in the POST's answer (as the baseline does, two).
What it costs per launch is the part of either tool's CPU no application change can remove.

Not part of the product: it reads its settings from the environment and the tool never
imports it.
"""

from __future__ import annotations

import os
import secrets

from flask import Flask, redirect, request
from werkzeug.wrappers import Response

PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Welcome</title>"
    "</head><body><h1>Welcome</h1><p>floor-landing</p></body></html>"
)


def create_app() -> Flask:
    app = Flask(__name__)
    platform_auth = os.environ.get("BENCH_FLOOR_AUTH_URL", "http://127.0.0.1:9/auth")

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Response:
        # Read the parameters as a real login does; the platform's address is all it answers.
        hint = request.values.get("login_hint", "")
        return redirect(f"{platform_auth}?login_hint={hint}&state={secrets.token_urlsafe(32)}")

    @app.post("/launch")
    def launch() -> Response:
        request.form.get("id_token")
        return redirect(f"/s/{secrets.token_urlsafe(32)}/", code=303)

    @app.post("/launch-page")
    def launch_page() -> str:
        request.form.get("id_token")
        return PAGE

    @app.get("/s/<token>/")
    def landing(token: str) -> str:
        return PAGE

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    return app
