"""C macros: definitions, a hide-set macro expander, and the `#if` expression evaluator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from frontend.source import SourceError
from frontend.tokens import char_literal, int_literal, tokenize

# A runaway definition (`#define A B B`, `#define B C C`, ...) grows exponentially; stop it early.
MAX_EXPANSION_TOKENS = 20000


class PPTok(NamedTuple):
    """A token during expansion: kind, text, offset of its use, and the macros it may not expand (hide set)."""

    kind: str
    text: str
    pos: int
    hide: frozenset[str] = frozenset()
    space: bool = False  # whitespace before it, for `#` stringification


_NO_HIDE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Macro:
    """A `#define`: object-like when `params` is None."""

    name: str
    params: tuple[str, ...] | None
    body: tuple[PPTok, ...]
    variadic: bool = False

    @property
    def is_function(self) -> bool:
        return self.params is not None


def pp_tokens(text: str, start: int = 0, end: int | None = None) -> list[PPTok]:
    """Tokenize for the preprocessor, remembering which tokens follow whitespace."""
    toks = tokenize(text, start, end)
    out: list[PPTok] = []
    prev_end = -1
    for t in toks:
        out.append(PPTok(t.kind, t.text, t.pos, _NO_HIDE, t.pos != prev_end))
        prev_end = t.end
    return out


def parse_define(text: str, start: int, end: int) -> Macro:
    """Parse the part of a `#define` line after the word `define` (text[start:end])."""
    toks = pp_tokens(text, start, end)
    if not toks or toks[0].kind != "ident":
        raise SourceError("macro name missing in #define", toks[0].pos if toks else start, malformed=True)
    name = toks[0]
    rest = toks[1:]
    # Function-like only when `(` follows the name with no space between them.
    if rest and rest[0].text == "(" and rest[0].pos == name.pos + len(name.text):
        params: list[str] = []
        variadic = False
        i = 1
        while True:
            if i >= len(rest):
                raise SourceError(f"unterminated parameter list in #define {name.text}", name.pos, malformed=True)
            t = rest[i]
            if t.text == ")":
                i += 1
                break
            if t.text == "...":
                variadic = True
                params.append("__VA_ARGS__")
            elif t.kind == "ident":
                params.append(t.text)
            else:
                raise SourceError(f"bad parameter {t.text!r} in #define {name.text}", t.pos, malformed=True)
            i += 1
            if i < len(rest) and rest[i].text == ",":
                i += 1
        return Macro(name.text, tuple(params), tuple(rest[i:]), variadic)
    return Macro(name.text, None, tuple(rest))


def define_from_option(name: str, value: str | int | None) -> Macro:
    """The macro of a `-D NAME[=VALUE]` option (value None means 1)."""
    text = f"{name} {1 if value is None else value}"
    return parse_define(text, 0, len(text))


class Expander:
    """Expands macros in token lists the way a C preprocessor does (hide sets stop recursion)."""

    def __init__(self, macros: dict[str, Macro]) -> None:
        self.macros = macros
        self._budget = MAX_EXPANSION_TOKENS

    def expand(self, toks: list[PPTok]) -> list[PPTok]:
        """Fully macro-expand a token list."""
        self._budget = MAX_EXPANSION_TOKENS
        return self._expand(toks)

    def _expand(self, toks: list[PPTok]) -> list[PPTok]:
        out: list[PPTok] = []
        stack = list(reversed(toks))  # pop() takes the next token
        macros = self.macros
        while stack:
            t = stack.pop()
            if t.kind != "ident" or t.text in t.hide or t.text not in macros:
                out.append(t)
                continue
            m = macros[t.text]
            if m.params is None:
                repl = self._subst(m, None, t.hide | {m.name}, t)
            else:
                if not stack or stack[-1].text != "(":
                    out.append(t)  # a function-like macro name not followed by `(` is just a name
                    continue
                args, rparen = self._collect_args(stack, m, t)
                repl = self._subst(m, args, (t.hide & rparen.hide) | {m.name}, t)
            self._budget -= len(repl)
            if self._budget < 0:
                raise SourceError(f"expansion of macro {m.name} is too large", t.pos)
            stack.extend(reversed(repl))
        return out

    def _collect_args(self, stack: list[PPTok], m: Macro, use: PPTok) -> tuple[list[list[PPTok]], PPTok]:
        """Pop `( a, b, ... )` off the stack; split at top-level commas."""
        stack.pop()  # "("
        args: list[list[PPTok]] = [[]]
        depth = 0
        nparams = len(m.params or ())
        while stack:
            t = stack.pop()
            if t.text == "(":
                depth += 1
            elif t.text == ")":
                if depth == 0:
                    if nparams == 0 and args == [[]]:
                        args = []
                    if len(args) != nparams and not (m.variadic and len(args) >= nparams - 1):
                        raise SourceError(
                            f"macro {m.name} takes {nparams} argument(s) but {len(args)} were given", use.pos
                        )
                    if m.variadic and len(args) > nparams:
                        # The variadic parameter takes the rest, commas included.
                        head, tail = args[: nparams - 1], args[nparams - 1 :]
                        joined: list[PPTok] = []
                        for k, a in enumerate(tail):
                            if k:
                                joined.append(PPTok("punct", ",", use.pos))
                            joined.extend(a)
                        args = [*head, joined]
                    while len(args) < nparams:
                        args.append([])
                    return args, t
                depth -= 1
            elif t.text == "," and depth == 0 and not (m.variadic and len(args) >= nparams):
                args.append([])
                continue
            args[-1].append(t)
        raise SourceError(f"unterminated call of macro {m.name}", use.pos)

    def _subst(self, m: Macro, args: list[list[PPTok]] | None, hide: frozenset[str], use: PPTok) -> list[PPTok]:
        """The body of `m` with arguments substituted, `#` and `##` applied, and `hide` added."""
        params = m.params or ()
        index = {p: k for k, p in enumerate(params)}
        body = m.body
        seq: list[PPTok] = []
        expanded: dict[int, list[PPTok]] = {}
        i = 0
        while i < len(body):
            t = body[i]
            if args is not None and t.text == "#" and i + 1 < len(body) and body[i + 1].text in index:
                arg = args[index[body[i + 1].text]]
                text = "".join((" " if k and a.space else "") + a.text for k, a in enumerate(arg))
                text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
                seq.append(PPTok("string", text, use.pos, _NO_HIDE, t.space))
                i += 2
                continue
            if t.text == "##" and i not in (0, len(body) - 1):
                seq.append(PPTok("paste", "##", use.pos))
                i += 1
                continue
            if args is not None and t.kind == "ident" and t.text in index:
                k = index[t.text]
                pasted = (i > 0 and body[i - 1].text == "##") or (i + 1 < len(body) and body[i + 1].text == "##")
                if pasted:
                    arg = args[k] or [PPTok("placemarker", "", use.pos)]
                else:
                    if k not in expanded:
                        expanded[k] = self._expand(args[k])
                    arg = expanded[k]
                seq.extend(a._replace(space=t.space) if j == 0 else a for j, a in enumerate(arg))
                i += 1
                continue
            seq.append(t)
            i += 1
        out: list[PPTok] = []
        k = 0
        while k < len(seq):
            t = seq[k]
            if t.kind == "paste" and out and k + 1 < len(seq):
                left = out.pop()
                right = seq[k + 1]
                text = left.text + right.text
                toks = pp_tokens(text) if text else []
                out.extend(PPTok(p.kind, p.text, use.pos, left.hide, left.space) for p in toks)
                k += 2
                continue
            out.append(t)
            k += 1
        return [
            PPTok(t.kind, t.text, use.pos, t.hide | hide, t.space)
            for t in out
            if t.kind not in ("placemarker", "paste")
        ]


def eval_if(toks: list[PPTok], macros: dict[str, Macro]) -> bool:
    """Evaluate the condition of an `#if`/`#elif`: `defined`, macro expansion, then integer arithmetic."""
    # `defined X` / `defined(X)` are resolved before expansion.
    resolved: list[PPTok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "ident" and t.text == "defined":
            if i + 1 < len(toks) and toks[i + 1].kind == "ident":
                name, i = toks[i + 1].text, i + 2
            elif (
                i + 3 < len(toks)
                and toks[i + 1].text == "("
                and toks[i + 2].kind == "ident"
                and toks[i + 3].text == ")"
            ):
                name, i = toks[i + 2].text, i + 4
            else:
                raise SourceError("malformed 'defined' in #if", t.pos, malformed=True)
            resolved.append(PPTok("number", "1" if name in macros else "0", t.pos))
            continue
        resolved.append(t)
        i += 1
    expanded = Expander(macros).expand(resolved)
    pos = toks[0].pos if toks else 0
    if not expanded:
        raise SourceError("#if with no expression", pos, malformed=True)
    return _IfParser(expanded).parse() != 0


_BINARY_LEVELS: list[tuple[str, ...]] = [
    ("||",),
    ("&&",),
    ("|",),
    ("^",),
    ("&",),
    ("==", "!="),
    ("<", ">", "<=", ">="),
    ("<<", ">>"),
    ("+", "-"),
    ("*", "/", "%"),
]
_MASK = (1 << 64) - 1


def _wrap64(v: int) -> int:
    """Keep #if arithmetic in 64-bit two's complement, as a preprocessor's intmax_t does."""
    v &= _MASK
    return v - (1 << 64) if v >> 63 else v


class _IfParser:
    """Precedence-climbing evaluator for preprocessor integer expressions."""

    def __init__(self, toks: list[PPTok]) -> None:
        self.toks = toks
        self.i = 0

    def _peek(self) -> PPTok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _fail(self, message: str) -> SourceError:
        t = self._peek() or self.toks[-1]
        return SourceError(message, t.pos)

    def parse(self) -> int:
        v = self._ternary()
        if self._peek() is not None:
            raise self._fail(f"unexpected {self._peek().text!r} in #if expression")  # type: ignore[union-attr]
        return v

    def _ternary(self) -> int:
        cond = self._binary(0)
        t = self._peek()
        if t is not None and t.text == "?":
            self.i += 1
            a = self._ternary()
            t = self._peek()
            if t is None or t.text != ":":
                raise self._fail("expected ':' in #if expression")
            self.i += 1
            b = self._ternary()
            return a if cond else b
        return cond

    def _binary(self, level: int) -> int:
        if level == len(_BINARY_LEVELS):
            return self._unary()
        ops = _BINARY_LEVELS[level]
        left = self._binary(level + 1)
        while (t := self._peek()) is not None and t.kind == "punct" and t.text in ops:
            self.i += 1
            if t.text == "||":
                right = self._binary(level + 1)
                left = int(bool(left) or bool(right))
            elif t.text == "&&":
                right = self._binary(level + 1)
                left = int(bool(left) and bool(right))
            else:
                left = self._apply(t, left, self._binary(level + 1))
        return left

    def _apply(self, t: PPTok, a: int, b: int) -> int:
        op = t.text
        if op in ("/", "%"):
            if b == 0:
                raise SourceError("division by zero in #if expression", t.pos, malformed=True)
            q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)  # C truncates toward zero
            return _wrap64(q if op == "/" else a - q * b)
        if op in ("<<", ">>"):
            if not 0 <= b < 64:
                raise SourceError("shift count out of range in #if expression", t.pos)
            return _wrap64(a << b if op == "<<" else a >> b)
        table = {
            "+": a + b,
            "-": a - b,
            "*": a * b,
            "|": a | b,
            "^": a ^ b,
            "&": a & b,
            "==": int(a == b),
            "!=": int(a != b),
            "<": int(a < b),
            ">": int(a > b),
            "<=": int(a <= b),
            ">=": int(a >= b),
        }
        return _wrap64(table[op])

    def _unary(self) -> int:
        t = self._peek()
        if t is None:
            raise self._fail("#if expression ends too early")
        self.i += 1
        if t.text in ("-", "+", "!", "~"):
            v = self._unary()
            return _wrap64({"-": -v, "+": v, "!": int(not v), "~": ~v}[t.text])
        if t.text == "(":
            v = self._ternary()
            close = self._peek()
            if close is None or close.text != ")":
                raise self._fail("missing ')' in #if expression")
            self.i += 1
            return v
        if t.kind == "number":
            number = int_literal(t.text)
            if number is None:
                raise SourceError(f"{t.text!r} is not an integer constant in #if", t.pos)
            return _wrap64(number)
        if t.kind == "char":
            char = char_literal(t.text)
            if char is None:
                raise SourceError(f"unsupported character constant {t.text} in #if", t.pos)
            return char
        if t.kind == "ident":
            return 0  # names left after expansion are 0, as in C
        raise SourceError(f"unexpected {t.text!r} in #if expression", t.pos)
