"""No run of 8 or more consecutive words from the seed chapters appears in the content."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from content.loader import CONTENT_ROOT
from tests.unit.content.originality import (
    fingerprint,
    fingerprint_texts,
    load_fingerprints,
    seed_texts,
    shingles,
)

# CI clones the repository with shared/ beside it, so the seeds are ../shared/seeds.
SEEDS_DIR = Path(
    os.environ.get("CXA_SEEDS_DIR", Path(__file__).resolve().parents[3].parent / "shared" / "seeds")
)


def content_files() -> list[Path]:
    return sorted(path for pattern in ("*.md", "*.yaml") for path in CONTENT_ROOT.rglob(pattern))


def test_content_files_found() -> None:
    assert len(content_files()) > 20


@pytest.mark.parametrize("path", content_files(), ids=lambda p: str(p.relative_to(CONTENT_ROOT)))
def test_no_seed_wording_in_content(path: Path) -> None:
    seed_prints = load_fingerprints()
    copied = [
        " ".join(s)
        for s in shingles(path.read_text(encoding="utf-8"))
        if fingerprint(s) in seed_prints
    ]
    assert copied == [], f"{path.name} repeats seed wording: {copied[:3]}"


def test_fingerprints_match_the_seeds() -> None:
    if not SEEDS_DIR.is_dir():
        pytest.fail(f"seed chapters not found at {SEEDS_DIR} (set CXA_SEEDS_DIR)")
    assert fingerprint_texts(seed_texts(SEEDS_DIR)) == load_fingerprints(), (
        f"seed_fingerprints.txt is stale: run python -m tests.unit.content.originality {SEEDS_DIR}"
    )


def test_detector_catches_a_copied_sentence() -> None:
    # Guard against a detector that silently matches nothing.
    if not SEEDS_DIR.is_dir():
        pytest.fail(f"seed chapters not found at {SEEDS_DIR} (set CXA_SEEDS_DIR)")
    seed = seed_texts(SEEDS_DIR)[0]
    sentence = next(line for line in seed.splitlines() if len(line.split()) > 12)
    quoted = f"Our lesson says: {sentence.upper()}!"
    assert any(fingerprint(s) in load_fingerprints() for s in shingles(quoted))
