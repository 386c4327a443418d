"""The frontend's diagnostics: an error (a source position and a message) and a warning."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from looper.errors import EXIT_INPUT, LooperError


class FrontendError(LooperError):
    """C code the frontend cannot turn into a Scop, with the place that says why.

    `malformed` says which kind: True when the input is not C a compiler would accept (a syntax
    error, an unterminated comment, bytes that are not UTF-8) or its scop markup is broken (an
    unmatched or nested `#pragma scop`); False when it is C outside looper's affine subset (a `while`
    loop, a pointer, a non-affine subscript), whose region looper leaves untouched.
    """

    exit_code = EXIT_INPUT

    def __init__(
        self, message: str, path: Path | str | None = None, line: int = 1, column: int = 1, *, malformed: bool = False
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        self.malformed = malformed
        super().__init__(str(self))

    @property
    def location(self) -> str:
        """`file:line:col`."""
        return f"{self.path or '<string>'}:{self.line}:{self.column}"

    def __str__(self) -> str:
        return f"{self.location}: error: {self.message}"

    def as_warning(self, note: str = "") -> str:
        """The same diagnostic as a one-line warning, with an optional note in parentheses."""
        return f"{self.location}: warning: {self.message}" + (f" ({note})" if note else "")

    def __reduce__(self):  # keep the error picklable (worker processes ship errors back)
        return (_rebuild, (self.message, self.path, self.line, self.column, self.malformed))


def _rebuild(message: str, path: Path | str | None, line: int, column: int, malformed: bool) -> FrontendError:
    return FrontendError(message, path, line, column, malformed=malformed)


@dataclass(frozen=True)
class FrontendWarning:
    """Something the frontend accepted on an assumption the user should know about."""

    message: str
    path: Path | str | None = None
    line: int = 1
    column: int = 1
    note: str = ""  # said in parentheses after the warning, not when it is made an error

    @property
    def location(self) -> str:
        """`file:line:col`."""
        return f"{self.path or '<string>'}:{self.line}:{self.column}"

    def __str__(self) -> str:
        return f"{self.location}: warning: {self.message}" + (f" ({self.note})" if self.note else "")

    def as_error(self) -> FrontendError:
        """The warning as an error (for `--strict`)."""
        return FrontendError(self.message, self.path, self.line, self.column)
