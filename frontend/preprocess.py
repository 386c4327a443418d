"""The preprocessing a scop region needs: comments, `#define`s, `#include "…"`, `-I`, `-D` and `#if`.

Nothing here rewrites the program text: comments are blanked (same length, newlines kept) so that
every offset still points into the original file, and macros are collected, not applied.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from frontend.errors import FrontendError, FrontendWarning
from frontend.macros import Macro, define_from_option, eval_if, parse_define, pp_tokens
from frontend.source import Source, SourceError, reading_view

MAX_INCLUDE_DEPTH = 40


def strip_comments(text: str) -> str:
    """Replace every comment by spaces (newlines kept), leaving string and character literals alone."""
    out: list[str] = []
    last = 0
    for i, j, _closed in comment_spans(text):
        out.append(text[last:i])
        out.append(re.sub(r"[^\n]", " ", text[i:j]))
        last = j
    out.append(text[last:])
    return "".join(out)


def unterminated_comment(text: str) -> int | None:
    """Offset of a `/*` that no `*/` closes (a compiler rejects the file), or None."""
    for i, _j, closed in comment_spans(text):
        if not closed:
            return i
    return None


def comment_spans(text: str) -> Iterator[tuple[int, int, bool]]:
    """(start, end, closed) of each comment, in order; literals are skipped so that `"/*"` is not one."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] in "/*":
            closed = True
            if text[i + 1] == "*":
                j = text.find("*/", i + 2)
                closed = j >= 0
                j = n if j < 0 else j + 2  # an unterminated comment runs to the end of the file
            else:
                j = i + 2
                while True:  # a `//` comment ends at a newline that is not spliced by a backslash
                    k = text.find("\n", j)
                    if k < 0:
                        j = n
                        break
                    if text[k - 1] == "\\" or (text[k - 1] == "\r" and text[k - 2] == "\\"):
                        j = k + 1
                        continue
                    j = k
                    break
            yield i, j, closed
            i = j
        elif c in "\"'":
            # Skip a literal; literals end at an unescaped quote or a newline.
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        else:
            i += 1


_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*([A-Za-z_]*)", re.M)


def directives(text: str) -> Iterable[tuple[int, int, str, int]]:
    """Each preprocessor line of comment-free text: (start, end, directive name, offset after the name)."""
    for m in _DIRECTIVE.finditer(text):
        start = m.start()
        end = text.find("\n", m.end())
        while end > 0 and (text[end - 1] == "\\" or (text[end - 1 : end + 1] == "\r\n" and text[end - 2] == "\\")):
            end = text.find("\n", end + 1)  # line continuation
        if end < 0:
            end = len(text)
        yield start, end, m.group(1), m.end()


def code_view(stripped: str) -> str:
    """Comment-free text with preprocessor lines blanked too: what the C compiler proper sees (same offsets)."""
    parts: list[str] = []
    last = 0
    for start, end, _name, _after in directives(stripped):
        parts.append(stripped[last:start])
        parts.append(re.sub(r"[^\n]", " ", stripped[start:end]))
        last = end
    parts.append(stripped[last:])
    return "".join(parts)


@dataclass
class Snapshot:
    """The macros in force at one place of the main file, and whether that place is compiled at all."""

    macros: dict[str, Macro]
    active: bool
    error: FrontendError | None = None  # a preprocessing error earlier in the file, if any


@dataclass
class Preprocessor:
    """Walks the main file's directives (and the headers it includes) collecting macros and typedefs."""

    include_dirs: tuple[Path, ...] = ()
    defines: Mapping[str, str | int | None] = field(default_factory=dict)
    macros: dict[str, Macro] = field(default_factory=dict)
    typedefs: dict[str, str] = field(default_factory=dict)  # name -> type text, from all files read
    _once: set[Path] = field(default_factory=set)
    error: FrontendError | None = None
    warnings: list[FrontendWarning] = field(default_factory=list)  # `#include "…"` of a file not found

    def __post_init__(self) -> None:
        for name, value in self.defines.items():
            self.macros[name] = define_from_option(name, value)

    def run(self, source: Source, stripped: str, stops: list[int]) -> list[Snapshot]:
        """Process the main file; return the macro state at each offset in `stops` (sorted ascending)."""
        snaps: list[Snapshot] = []
        pending = list(stops)
        self._collect_typedefs(stripped)

        def on_directive(offset: int, active: bool) -> None:
            while pending and pending[0] <= offset:
                pending.pop(0)
                snaps.append(Snapshot(dict(self.macros), active, self.error))

        try:
            self._file(source, stripped, 0, on_directive)
        except FrontendError as exc:
            self.error = self.error or exc
        for _ in pending:
            snaps.append(Snapshot(dict(self.macros), True, self.error))
        return snaps

    def _file(self, source: Source, stripped: str, depth: int, on_directive=None) -> None:
        """Process the directives of one file, in order, with a conditional-inclusion stack."""
        # Each stack entry: (this branch is taken, some branch of this #if was already taken, enclosing active).
        stack: list[tuple[bool, bool, bool]] = []
        opened: list[int] = []  # where each #if of the stack starts
        active = True
        for start, end, name, after in directives(stripped):
            if on_directive is not None:
                on_directive(start, active)
            depth_before = len(stack)
            try:
                active = self._directive(source, stripped, name, after, end, stack, active, depth)
            except (SourceError, FrontendError) as exc:
                err = source.error(exc.message, exc.offset, malformed=exc.malformed) if isinstance(exc, SourceError) \
                    else exc
                if on_directive is None:
                    raise err from None
                # In the main file an error only spoils the regions that come after it.
                self.error = self.error or err
            if len(stack) > depth_before:
                opened.append(start)
            elif len(stack) < depth_before:
                opened.pop()
        if stack:
            err = source.error("unterminated conditional directive (#if without #endif)", opened[0], malformed=True)
            if on_directive is None:
                raise err
            self.error = self.error or err
        if on_directive is not None:
            on_directive(len(stripped) + 1, active)

    def _directive(
        self,
        source: Source,
        text: str,
        name: str,
        after: int,
        end: int,
        stack: list[tuple[bool, bool, bool]],
        active: bool,
        depth: int,
    ) -> bool:
        """Apply one directive; return whether the lines after it are compiled."""
        if name in ("if", "ifdef", "ifndef"):
            if not active:
                stack.append((False, True, False))
                return False
            taken = self._condition(text, name, after, end)
            stack.append((taken, taken, True))
            return taken
        if name in ("elif", "else"):
            if not stack:
                raise SourceError(f"#{name} without #if", after, malformed=True)
            taken, done, outer = stack[-1]
            if not outer or done:
                stack[-1] = (False, True, outer)
                return False
            now = True if name == "else" else self._condition(text, "if", after, end)
            stack[-1] = (now, now, outer)
            return now
        if name == "endif":
            if not stack:
                raise SourceError("#endif without #if", after, malformed=True)
            _taken, _done, outer = stack.pop()
            return outer
        if not active:
            return False
        if name == "define":
            m = parse_define(text, after, end)
            self.macros[m.name] = m
        elif name == "undef":
            toks = pp_tokens(text, after, end)
            if toks:
                self.macros.pop(toks[0].text, None)
        elif name == "include":
            try:
                self._include(source, text, after, end, depth)
            except FrontendError as exc:  # an error in a header spoils later regions but is not the file's own
                raise FrontendError(exc.message, exc.path, exc.line, exc.column) from None
        elif name == "pragma" and text[after:end].split() == ["once"] and source.path is not None:
            self._once.add(source.path.resolve())
        return True

    def _condition(self, text: str, name: str, after: int, end: int) -> bool:
        toks = pp_tokens(text, after, end)
        if name == "if":
            return eval_if(toks, self.macros)
        if not toks or toks[0].kind != "ident":
            raise SourceError(f"#{name} needs a macro name", after)
        return (toks[0].text in self.macros) == (name == "ifdef")

    def _include(self, source: Source, text: str, after: int, end: int, depth: int) -> None:
        """Read a `"…"` header next to the including file or on the include path; `<…>` only on the path."""
        spec = text[after:end].strip()
        m = re.match(r'"([^"]+)"|<([^>]+)>', spec)
        if not m:
            return  # a computed include (`#include MACRO`) is beyond this small preprocessor
        name = m.group(1) or m.group(2)
        candidates: list[Path] = []
        if m.group(1) and source.path is not None:
            candidates.append(source.path.parent / name)
        candidates += [Path(d) / name for d in self.include_dirs]
        for path in candidates:
            if path.is_file():
                break
        else:
            # System headers are never read; a missing `"…"` header is worth a word: its macros are unknown.
            if m.group(1):
                self.warnings.append(source.warning(
                    f'cannot find "{name}" (its macros are unknown: names it defines are read as parameters)',
                    after + (len(text[after:end]) - len(text[after:end].lstrip()))))
            return
        if depth >= MAX_INCLUDE_DEPTH:
            raise SourceError(f"#include nested more than {MAX_INCLUDE_DEPTH} levels deep", after)
        resolved = path.resolve()
        if resolved in self._once:
            return
        try:
            header = reading_view(path.read_bytes().decode("utf-8", errors="replace"))
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc.strerror}", after) from None
        stripped = strip_comments(header)
        self._collect_typedefs(stripped)
        self._file(Source(header, path), stripped, depth + 1)

    def _collect_typedefs(self, stripped: str) -> None:
        """Remember simple typedefs (`typedef char base;`) so casts and declarations can use them."""
        for m in re.finditer(r"\btypedef\s+([A-Za-z_][\w \t*]*?)\s*\b([A-Za-z_]\w*)\s*;", stripped):
            self.typedefs[m.group(2)] = " ".join(m.group(1).split())
