"""Shared fixtures: a writable copy of the shipped content and a way to run the CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from content.loader import CONTENT_ROOT

REPO_ROOT = CONTENT_ROOT.parent


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """The shipped content folder copied to tmp_path/content, ready to break."""
    target = tmp_path / "content"
    shutil.copytree(
        CONTENT_ROOT, target, ignore=shutil.ignore_patterns("*.py", "__pycache__", "*.pyc")
    )
    return target


def edit_yaml(path: Path, change: Callable[[Any], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def edit_front_matter(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    text = path.read_text(encoding="utf-8")
    end = text.index("\n---\n", 4)
    front = yaml.safe_load(text[4:end])
    change(front)
    dumped = yaml.safe_dump(front, sort_keys=False, allow_unicode=True)
    path.write_text(f"---\n{dumped}---\n{text[end + 5 :]}", encoding="utf-8")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "-m", "content", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
