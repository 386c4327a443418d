"""Find the `#pragma scop` … `#pragma endscop` regions of a file and the function around each."""

from __future__ import annotations

import re
from dataclasses import dataclass

from frontend.source import SourceError

_PRAGMA = re.compile(r"^[ \t]*#[ \t]*pragma[ \t]+(scop|endscop)[ \t\r]*$", re.M)


@dataclass(frozen=True)
class RegionSpan:
    """Offsets of one region: the whole of it (pragma lines included) and the code between the pragmas."""

    start: int  # first character of the `#pragma scop` line
    end: int  # just past the `#pragma endscop` line, its newline included
    body_start: int  # just past the `#pragma scop` line
    body_end: int  # first character of the `#pragma endscop` line


def find_regions(stripped: str) -> list[RegionSpan | SourceError]:
    """Every region of comment-free text, in order; a malformed pairing gives a SourceError in its place."""
    out: list[RegionSpan | SourceError] = []
    open_at: re.Match[str] | None = None
    for m in _PRAGMA.finditer(stripped):
        if m.group(1) == "scop":
            if open_at is not None:
                out.append(
                    SourceError(
                        "'#pragma scop' inside a region that is still open (missing '#pragma endscop')", open_at.start()
                    )
                )
            open_at = m
            continue
        if open_at is None:
            out.append(SourceError("'#pragma endscop' without a '#pragma scop' before it", m.start()))
            continue
        body_start = _line_end(stripped, open_at.end())
        end = _line_end(stripped, m.end())
        out.append(RegionSpan(open_at.start(), end, body_start, m.start()))
        open_at = None
    if open_at is not None:
        out.append(SourceError("'#pragma scop' has no matching '#pragma endscop'", open_at.start()))
    return out


def _line_end(text: str, pos: int) -> int:
    """Offset just past the newline ending the line containing `pos` (or the end of the text)."""
    nl = text.find("\n", pos)
    return len(text) if nl < 0 else nl + 1
