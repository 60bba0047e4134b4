"""Fingerprints of the seed chapters, so tests can prove no seed wording was copied.

The seeds live outside the repository (/work/shared/seeds), so the test compares the
content against hashed 8-word shingles stored in ``seed_fingerprints.txt``: no seed
text is committed, and the check runs anywhere. Regenerate after the seeds change with
``python -m tests.unit.content.originality /path/to/seeds``.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

SHINGLE = 8
FINGERPRINTS = Path(__file__).with_name("seed_fingerprints.txt")
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Lower-case words with punctuation, quotes and Markdown markup dropped."""
    return _WORD.findall(text.lower().replace("\u2019", "'").replace("'", ""))


def shingles(text: str, size: int = SHINGLE) -> Iterator[tuple[str, ...]]:
    tokens = words(text)
    for start in range(len(tokens) - size + 1):
        yield tuple(tokens[start : start + size])


def fingerprint(shingle: tuple[str, ...]) -> str:
    return hashlib.blake2b(" ".join(shingle).encode(), digest_size=8).hexdigest()


def fingerprint_texts(texts: Iterable[str]) -> set[str]:
    return {fingerprint(s) for text in texts for s in shingles(text)}


def seed_texts(seeds_dir: Path) -> list[str]:
    return [path.read_text(encoding="utf-8") for path in sorted(seeds_dir.glob("*.txt"))]


def load_fingerprints() -> set[str]:
    return set(FINGERPRINTS.read_text(encoding="utf-8").split())


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.unit.content.originality SEEDS_DIR", file=sys.stderr)
        return 2
    prints = fingerprint_texts(seed_texts(Path(argv[0])))
    FINGERPRINTS.write_text("\n".join(sorted(prints)) + "\n", encoding="utf-8")
    print(f"{len(prints)} fingerprints written to {FINGERPRINTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
