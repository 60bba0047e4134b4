"""Command line: ``python -m content validate [PATH]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from content.loader import CONTENT_ROOT
from content.validation import validate_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m content", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check a content folder and count its items")
    validate.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=CONTENT_ROOT,
        help="content folder (default: the shipped content)",
    )
    args = parser.parse_args(argv)

    path: Path = args.path
    if not path.is_dir():
        # Exit status 2, like argparse's own usage errors: the command was wrong, not the content.
        parser.error(f"{path} is not a folder")
    report = validate_path(path)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if not report.ok:
        print(f"{len(report.problems)} problem(s) found", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
