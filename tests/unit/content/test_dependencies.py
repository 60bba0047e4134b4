"""content is a library: importing all of it pulls in no web, queue, ORM or LTI package."""

from __future__ import annotations

import subprocess
import sys

from tests.unit.content.conftest import REPO_ROOT

FORBIDDEN = ("flask", "celery", "sqlalchemy", "pylti1p3", "lti_tool", "workers")

SCRIPT = """
import sys
import content, content.catalog, content.errors, content.goals, content.ids
import content.loader, content.schema, content.scoring, content.validation, content.__main__
content.loader.load_catalog()
forbidden = {forbidden!r}
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in forbidden)))
"""


def test_content_imports_no_framework() -> None:
    result = subprocess.run(  # noqa: S603 - fixed interpreter and script
        [sys.executable, "-c", SCRIPT.format(forbidden=FORBIDDEN)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert result.stdout.strip() == ""
