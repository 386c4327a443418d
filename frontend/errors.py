"""The one exception type the frontend raises: a source position and a message."""

from __future__ import annotations

from pathlib import Path


class FrontendError(Exception):
    """C code the frontend cannot turn into a Scop, with the place that says why."""

    def __init__(self, message: str, path: Path | str | None = None, line: int = 1, column: int = 1) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path or '<string>'}:{self.line}:{self.column}: error: {self.message}"

    def __reduce__(self):  # keep the error picklable (worker processes ship errors back)
        return (FrontendError, (self.message, self.path, self.line, self.column))
