"""Every interface string goes through gettext, and the committed catalogue template is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
TRANSLATIONS = ROOT / "lti_tool" / "translations"


def _msgids(path: Path) -> set[str]:
    with path.open("rb") as handle:
        return {str(message.id) for message in read_po(handle) if message.id}


def test_the_catalogue_template_lists_every_string_in_the_code(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(  # noqa: S603 - our interpreter, fixed argv
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(TRANSLATIONS / "babel.cfg"),
            "-k",
            "lazy_gettext",
            "-o",
            str(fresh),
            "--no-location",
            "--sort-output",
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    missing = _msgids(fresh) - _msgids(TRANSLATIONS / "messages.pot")
    assert not missing, (
        "re-run: pybabel extract -F lti_tool/translations/babel.cfg -k lazy_gettext "
        f"-o lti_tool/translations/messages.pot --no-location --sort-output . ({sorted(missing)})"
    )
    assert len(_msgids(fresh)) > 150
