"""What a name in an affine position means: a parameter named as written, or a macro to expand.

The rule (so that a PolyBench file extracts the same with or without its utilities header):
a name whose full macro expansion is a single identifier or a single integer — `_PB_N` ->
`POLYBENCH_LOOP_BOUND(N, n)` -> `n`, or `#define N 100` — stays a parameter named as written
(its integer value, if any, is recorded); a name whose expansion is a longer affine expression
(`#define M (N-1)`) is expanded, applying the same rule to the names inside; anything else is
a parameter too. Function-like macros called in bounds (`MIN(a, b)`) are expanded likewise.
"""

from __future__ import annotations

from collections.abc import Callable

from frontend.macros import Expander, Macro, PPTok
from frontend.parse import parse_expression
from frontend.source import SourceError
from frontend.tokens import Tok, int_literal, tokenize
from looper.expr import Call, Expr

MAX_DEPTH = 50


class MacroPolicy:
    """Applies the affine-position rule with one region's macros (results cached per name)."""

    def __init__(self, macros: dict[str, Macro], is_type: Callable[[str], bool]) -> None:
        self.macros = macros
        self.is_type = is_type
        self._expander = Expander(macros)
        self._single: dict[str, tuple[bool, int | None]] = {}
        self._names: dict[str, tuple[str, int | None] | tuple[str, Expr]] = {}

    def single_token(self, name: str) -> tuple[bool, int | None]:
        """Whether `name` expands to one identifier or integer (a parameter), and that integer."""
        if name not in self._single:
            m = self.macros.get(name)
            if m is None or m.is_function:
                self._single[name] = (True, None)
            else:
                try:
                    full = self._expander.expand([PPTok("ident", name, 0)])
                except SourceError:
                    full = []
                if len(full) == 1 and full[0].kind in ("ident", "number"):
                    value = int_literal(full[0].text) if full[0].kind == "number" else None
                    self._single[name] = (full[0].kind == "ident" or value is not None, value)
                else:
                    self._single[name] = (False, None)
        return self._single[name]

    def lookup(self, name: str) -> tuple[str, int | None] | tuple[str, Expr]:
        """("param", value or None) or ("expand", expression) for a name in an affine position."""
        if name not in self._names:
            single, value = self.single_token(name)
            m = self.macros.get(name)
            if single or m is None or m.is_function:
                self._names[name] = ("param", value)
            else:
                expr = self._parse(self._policy_expand(list(m.body), {name}, 0))
                self._names[name] = ("expand", expr) if expr is not None else ("param", None)
        return self._names[name]

    def expand_call(self, call: Call) -> Expr | None:
        """The expansion of a function-like macro call in an affine position, or None."""
        m = self.macros.get(call.func)
        if m is None or not m.is_function:
            return None
        try:
            toks = [PPTok(t.kind, t.text, 0) for t in tokenize(call.to_c())]
        except TypeError:
            return None
        return self._parse(self._policy_expand(toks, set(), 0))

    def _parse(self, toks: list[PPTok] | None) -> Expr | None:
        if not toks:
            return None
        try:
            return parse_expression([Tok(t.kind, t.text, 0) for t in toks], self.is_type)
        except SourceError:
            return None

    def _policy_expand(self, toks: list[PPTok], active: set[str], depth: int) -> list[PPTok] | None:
        """Expand multi-token object-like macros and function-like calls; keep single-token names."""
        if depth > MAX_DEPTH:
            return None
        out: list[PPTok] = []
        i = 0
        while i < len(toks):
            t = toks[i]
            m = self.macros.get(t.text) if t.kind == "ident" and t.text not in active else None
            if m is None:
                out.append(t)
                i += 1
                continue
            if not m.is_function:
                if self.single_token(t.text)[0]:
                    out.append(t)
                else:
                    inner = self._policy_expand(list(m.body), active | {m.name}, depth + 1)
                    if inner is None:
                        return None
                    out += [PPTok("punct", "(", 0), *inner, PPTok("punct", ")", 0)]
                i += 1
                continue
            if i + 1 >= len(toks) or toks[i + 1].text != "(":
                out.append(t)
                i += 1
                continue
            args, close = _split_args(toks, i + 1)
            if args is None:
                return None
            body = _substitute(m, args)
            if body is None:  # `#`/`##` or a wrong argument count: leave it to the full expander
                try:
                    body = self._expander.expand(toks[i : close + 1])
                except SourceError:
                    return None
            inner = self._policy_expand(body, active | {m.name}, depth + 1)
            if inner is None:
                return None
            out += [PPTok("punct", "(", 0), *inner, PPTok("punct", ")", 0)]
            i = close + 1
        return out


def _split_args(toks: list[PPTok], open_: int) -> tuple[list[list[PPTok]] | None, int]:
    """Arguments of the call whose `(` is at `open_`, and the index of its `)`."""
    args: list[list[PPTok]] = [[]]
    depth = 0
    for k in range(open_ + 1, len(toks)):
        t = toks[k]
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            if depth == 0:
                return (args if args != [[]] else []), k
            depth -= 1
        elif t.text == "," and depth == 0:
            args.append([])
            continue
        args[-1].append(t)
    return None, len(toks)


def _substitute(m: Macro, args: list[list[PPTok]]) -> list[PPTok] | None:
    """One level of substitution with unexpanded arguments, each parenthesized."""
    params = m.params or ()
    if m.variadic or len(args) != len(params) or any(t.text in ("#", "##") for t in m.body):
        return None
    index = {p: k for k, p in enumerate(params)}
    out: list[PPTok] = []
    for t in m.body:
        if t.kind == "ident" and t.text in index:
            out += [PPTok("punct", "(", 0), *args[index[t.text]], PPTok("punct", ")", 0)]
        else:
            out.append(t)
    return out
