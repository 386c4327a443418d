"""Find the declarations a region refers to: the enclosing function's parameters and locals, and globals.

This is a small declaration scanner, not a C parser: it reads the common forms
(`double A[N][M]`, `DATA_TYPE POLYBENCH_2D(A, N, M, n, m)`, `double (*A)[M]`, `double *p`,
`int n`, `DATA_TYPE a, b;`) and skips whatever it does not understand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from frontend.macros import Macro
from frontend.tokens import Tok, join_tokens, tokenize

# Words that may precede a declaration but are not part of its element type.
_QUALIFIERS = frozenset(
    [
        "static",
        "const",
        "volatile",
        "restrict",
        "register",
        "extern",
        "inline",
        "auto",
        "__restrict",
        "__restrict__",
        "__inline__",
        "_Thread_local",
    ]
)
TYPE_KEYWORDS = frozenset(
    ["void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "_Bool", "_Complex"]
)
# The integer types of the standard headers, which a C file may use without this reader seeing the header.
INTEGER_TYPEDEFS = frozenset(
    ["size_t", "ptrdiff_t", "intptr_t", "uintptr_t"]
    + [f"{sign}int{bits}_t" for sign in ("", "u") for bits in (8, 16, 32, 64)]
)
_NOT_TYPES = frozenset(
    [
        "return",
        "if",
        "else",
        "for",
        "while",
        "do",
        "switch",
        "case",
        "default",
        "goto",
        "break",
        "continue",
        "sizeof",
        "typedef",
        "struct",
        "union",
        "enum",
    ]
)
_POLYBENCH_ND = re.compile(r"POLYBENCH_([1-9])D$")


@dataclass(frozen=True)
class Declaration:
    """One declared variable: its element type as written, and its extents (outermost first)."""

    name: str
    type: str  # e.g. "DATA_TYPE", "double", "unsigned int"
    sizes: tuple[str, ...]  # "" for an extent that is not written (`double *p`, `A[]`)


@dataclass
class Function:
    """A function definition: its name, parameters, and where its body is."""

    name: str
    params: dict[str, Declaration]
    body_start: int  # offset of `{`
    body_end: int  # offset just past the matching `}`


@dataclass
class FileDeclarations:
    """Functions and file-scope variables of one file (scanned once, shared by its regions)."""

    functions: list[Function] = field(default_factory=list)
    globals: dict[str, Declaration] = field(default_factory=dict)
    tokens: list[Tok] = field(default_factory=list)

    def function_at(self, offset: int) -> Function | None:
        """The function whose body contains `offset`."""
        for f in self.functions:
            if f.body_start < offset < f.body_end:
                return f
        return None

    def locals_of(self, f: Function, skip: tuple[int, int], macros: dict[str, Macro]) -> dict[str, Declaration]:
        """Declarations in a function's body, outside the span `skip` (the region itself)."""
        toks = [t for t in self.tokens if f.body_start < t.pos < f.body_end - 1 and not skip[0] <= t.pos < skip[1]]
        out: dict[str, Declaration] = {}
        chunk: list[Tok] = []
        for t in toks:
            if t.text in (";", "{", "}"):
                for d in parse_declaration(chunk, macros):
                    out.setdefault(d.name, d)
                chunk = []
            else:
                chunk.append(t)
        return out


def scan_file(code: str, macros: dict[str, Macro]) -> FileDeclarations:
    """Scan code (comments and directives blanked) for function definitions and global declarations."""
    toks = tokenize(code)
    result = FileDeclarations(tokens=toks)
    chunk: list[Tok] = []
    i = 0
    n = len(toks)
    while i < n:
        t = toks[i]
        if t.text == ";":
            for d in parse_declaration(chunk, macros):
                result.globals.setdefault(d.name, d)
            chunk = []
        elif t.text == "{":
            close = _matching(toks, i, "{", "}")
            f = _function_header(chunk, macros)
            if f is not None:
                f.body_start = t.pos
                f.body_end = toks[close].end if close < n else len(code)
                result.functions.append(f)
                chunk = []
            else:
                chunk.extend(toks[i : close + 1])  # a struct body or an initializer: part of the declaration
            i = close
        else:
            chunk.append(t)
        i += 1
    return result


def _matching(toks: list[Tok], i: int, open_: str, close: str) -> int:
    """Index of the token closing the bracket at `i` (or the last index if unbalanced)."""
    depth = 0
    for k in range(i, len(toks)):
        if toks[k].text == open_:
            depth += 1
        elif toks[k].text == close:
            depth -= 1
            if depth == 0:
                return k
    return len(toks) - 1


def _function_header(chunk: list[Tok], macros: dict[str, Macro]) -> Function | None:
    """`static void kernel(int n, double A[n])` -> Function; None if the chunk is not a function header."""
    if len(chunk) < 3 or chunk[-1].text != ")":
        return None
    open_ = len(chunk) - 1
    depth = 0
    for k in range(len(chunk) - 1, -1, -1):
        if chunk[k].text == ")":
            depth += 1
        elif chunk[k].text == "(":
            depth -= 1
            if depth == 0:
                open_ = k
                break
    if open_ == 0 or chunk[open_ - 1].kind != "ident" or chunk[open_ - 1].text in _NOT_TYPES:
        return None
    params: dict[str, Declaration] = {}
    for part in _split_commas(chunk[open_ + 1 : -1]):
        for d in parse_declaration(part, macros):
            params[d.name] = d
    return Function(chunk[open_ - 1].text, params, 0, 0)


def _split_commas(toks: list[Tok]) -> list[list[Tok]]:
    """Split at commas outside parentheses and brackets."""
    parts: list[list[Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.text in "([{":
            depth += 1
        elif t.text in ")]}":
            depth -= 1
        elif t.text == "," and depth == 0:
            parts.append([])
            continue
        parts[-1].append(t)
    return [p for p in parts if p]


def parse_declaration(chunk: list[Tok], macros: dict[str, Macro]) -> list[Declaration]:
    """The variables declared by one declaration (`T a, *b, c[N]`); [] if the tokens are not a declaration."""
    try:
        return _parse_declaration(chunk, macros)
    except (IndexError, ValueError, RecursionError):
        return []


def _parse_declaration(chunk: list[Tok], macros: dict[str, Macro]) -> list[Declaration]:
    toks = [t for t in chunk if t.text not in _QUALIFIERS]
    if len(toks) < 2 or toks[0].kind != "ident" or toks[0].text in _NOT_TYPES:
        return []
    # The element type: leading type words; the declarator starts at the last of them that is followed
    # by a non-word (or by `POLYBENCH_nD(`), since `T x` needs at least one word for T.
    k = 0
    while k < len(toks) and toks[k].kind == "ident" and (toks[k].text in TYPE_KEYWORDS or k == 0):
        k += 1
    if k < len(toks) and toks[k].kind == "ident" and k + 1 < len(toks) and toks[k + 1].kind == "ident":
        k += 1  # `unsigned base x` style: one more user type word
    if k >= len(toks) or k == 0:
        return []
    type_text = " ".join(t.text for t in toks[:k])
    if k == 1 and toks[0].text not in TYPE_KEYWORDS:
        nxt = toks[k]
        pointer_to_rows = nxt.text == "(" and k + 1 < len(toks) and toks[k + 1].text == "*"
        if not (nxt.kind == "ident" or nxt.text == "*" or pointer_to_rows):
            return []  # `x = 1`, `f(x)`, `A[i]`: an expression, not a declaration
    out: list[Declaration] = []
    for part in _split_commas(toks[k:]):
        d = _declarator(part, type_text, macros)
        if d is None:
            return []
        out.append(d)
    return out


def _declarator(part: list[Tok], type_text: str, macros: dict[str, Macro]) -> Declaration | None:
    """One declarator: `*p`, `A[N][M]`, `(*A)[M]`, `POLYBENCH_2D(A, N, M, n, m)`, with an optional `= init`."""
    for k, t in enumerate(part):
        if t.text == "=":
            part = part[:k]
            break
    if not part:
        return None
    head = part[0]
    if head.kind == "ident" and len(part) > 1 and part[1].text == "(" and _POLYBENCH_ND.match(head.text):
        return _polybench_nd(part, type_text, macros)
    pointers = 0
    k = 0
    while k < len(part) and part[k].text == "*":
        pointers += 1
        k += 1
    extents: list[str] = []
    if k < len(part) and part[k].text == "(":  # `(*A)[M]`: a pointer to rows
        close = _matching(part, k, "(", ")")
        inner = [t for t in part[k + 1 : close] if t.text != "*"]
        if len(inner) != 1 or inner[0].kind != "ident":
            return None  # something stranger
        name = inner[0].text
        if close + 1 < len(part) and part[close + 1].text == "(" and close - k > 2:
            # `(*f)(double)`: a function pointer, recorded as a scalar so that a call through it is recognized
            return Declaration(name, type_text + " (*)()", ())
        extents.append("")
        k = close + 1
    elif k < len(part) and part[k].kind == "ident":
        name = part[k].text
        k += 1
    else:
        return None
    extents = [""] * pointers + extents
    while k < len(part) and part[k].text == "[":
        close = _matching(part, k, "[", "]")
        extents.append(join_tokens([t.text for t in part[k + 1 : close] if t.text not in _QUALIFIERS]))
        k = close + 1
    if k != len(part):
        return None
    return Declaration(name, type_text, tuple(extents))


def _polybench_nd(part: list[Tok], type_text: str, macros: dict[str, Macro]) -> Declaration | None:
    """`POLYBENCH_2D(A, N, M, n, m)` declares `A[N][M]`: the extents as written, whatever the header does.

    (Expanding the header's macro would also expand `N` to the dataset's number, and PolyBench's own
    header adds padding terms; the convention gives the same answer with or without the header.)
    """
    head = part[0]
    # PolyBench's convention: POLYBENCH_nD(var, d1, ..., dn, dd1, ..., ddn) declares var[d1]...[dn].
    n = int(_POLYBENCH_ND.match(head.text).group(1))  # type: ignore[union-attr]
    close = _matching(part, 1, "(", ")")
    args = _split_commas(part[2:close])
    if len(args) < n + 1 or len(args[0]) != 1 or args[0][0].kind != "ident":
        return None
    return Declaration(args[0][0].text, type_text, tuple(join_tokens([t.text for t in a]) for a in args[1 : n + 1]))
