from __future__ import annotations

from flask import Flask

from lti_tool.web.warmup import precompile_templates


def test_every_page_template_is_compiled_before_a_request(app: Flask) -> None:
    loaded = precompile_templates(app)

    cache = app.jinja_env.cache
    assert cache is not None
    cached = {name for (_, name) in cache}
    assert loaded == len(cached) > 0
    assert {"home.html", "base.html", "progress.html"} <= cached
