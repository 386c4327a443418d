"""A source text with its path: offsets to line/column, and errors at an offset."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

from frontend.errors import FrontendError


@dataclass
class Source:
    """One file (or string) as read, with a line index for positions."""

    text: str
    path: Path | None = None
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        find = self.text.find
        i = find("\n")
        while i >= 0:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self._line_starts = starts

    @property
    def name(self) -> str:
        """The path as text, or `<string>`."""
        return str(self.path) if self.path is not None else "<string>"

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def line_start(self, line: int) -> int:
        """Offset of the first character of a 1-based line."""
        return self._line_starts[max(0, min(line, len(self._line_starts)) - 1)]

    def error(self, message: str, offset: int) -> FrontendError:
        """A FrontendError at a character offset of this source."""
        line, col = self.line_col(offset)
        return FrontendError(message, self.name, line, col)


class SourceError(Exception):
    """An error known by offset only; the caller turns it into a FrontendError with its Source."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
