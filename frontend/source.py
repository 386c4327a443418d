"""A source text with its path: offsets to line/column, and errors at an offset."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path

from frontend.errors import FrontendError, FrontendWarning

# A line ends at LF, CR LF or a lone CR (old Mac files), as gcc reads them.
_LINE_END = re.compile(r"\r\n?|\n")
_LONE_CR = re.compile(r"\r(?!\n)")


def reading_view(text: str) -> str:
    """The text as the frontend reads it: every lone CR made a LF and a leading byte-order mark a
    space. The same length, so that offsets still index the original; the frontend needs to know
    only LF and CR LF line ends."""
    if "\r" in text:
        text = _LONE_CR.sub("\n", text)
    return " " + text[1:] if text.startswith("\ufeff") else text


@dataclass
class Source:
    """One file (or string) as read, with a line index for positions."""

    text: str
    path: Path | None = None
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._line_starts = [0, *(m.end() for m in _LINE_END.finditer(self.text))]

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

    def error(self, message: str, offset: int, *, malformed: bool = False) -> FrontendError:
        """A FrontendError at a character offset of this source."""
        line, col = self.line_col(offset)
        return FrontendError(message, self.name, line, col, malformed=malformed)

    def warning(self, message: str, offset: int) -> FrontendWarning:
        """A FrontendWarning at a character offset of this source."""
        line, col = self.line_col(offset)
        return FrontendWarning(message, self.name, line, col)


class SourceError(Exception):
    """An error known by offset only; the caller turns it into a FrontendError with its Source."""

    def __init__(self, message: str, offset: int, *, malformed: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.malformed = malformed
