"""xapi is a library: importing all of it pulls in no web, queue, ORM or LTI package."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("flask", "celery", "sqlalchemy", "pylti1p3", "lti_tool", "workers")


def test_xapi_imports_alone() -> None:
    # A fresh interpreter, because this test process may have imported them already.
    code = (
        "import json, sys\n"
        "import xapi.errors, xapi.events, xapi.lrs, xapi.profile, xapi.statements\n"
        "import xapi.validation, xapi.vocabulary\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = json.loads(result.stdout)
    offenders = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert offenders == []
