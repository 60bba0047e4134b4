"""A single content problem, located by the file and field it was found in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Origin:
    """Where an item was read: a display path and the field path inside that file."""

    file: str
    field: str = ""

    def at(self, sub: str) -> Origin:
        """Return the origin of a field nested under this one (``sub`` may start with ``[``)."""
        if not self.field:
            return Origin(self.file, sub)
        joiner = "" if sub.startswith("[") else "."
        return Origin(self.file, f"{self.field}{joiner}{sub}")


@dataclass(frozen=True, order=True)
class Problem:
    """One reason the content is invalid, printed as ``file: field: message``."""

    origin: Origin
    message: str

    def __str__(self) -> str:
        if self.origin.field:
            return f"{self.origin.file}: {self.origin.field}: {self.message}"
        return f"{self.origin.file}: {self.message}"
