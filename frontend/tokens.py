"""A C tokenizer shared by the preprocessor, the declaration scanner and the region parser."""

from __future__ import annotations

import re
from typing import NamedTuple

# Longest punctuators first so that `<<=` wins over `<<` and `<`.
_PUNCT = [
    "...",
    "<<=",
    ">>=",
    "->",
    "++",
    "--",
    "<<",
    ">>",
    "<=",
    ">=",
    "==",
    "!=",
    "&&",
    "||",
    "*=",
    "/=",
    "%=",
    "+=",
    "-=",
    "&=",
    "^=",
    "|=",
    "##",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    ".",
    "&",
    "*",
    "+",
    "-",
    "~",
    "!",
    "/",
    "%",
    "<",
    ">",
    "^",
    "|",
    "?",
    ":",
    ";",
    "=",
    ",",
    "#",
]
_TOKEN_RE = re.compile(
    r"(?P<ws>(?:[ \t\r\f\v\n]|\\\r?\n)+)"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"
    # A preprocessing number: digits, letters, dots, and exponent signs (1e-3, 0x1p+4, 2UL, 1.0f).
    r"|(?P<number>\.?[0-9](?:[eEpP][+-]|[A-Za-z0-9_.])*)"
    r"|(?P<char>'(?:[^'\\\n]|\\.)*')"
    r"|(?P<string>\"(?:[^\"\\\n]|\\.)*\")"
    r"|(?P<punct>" + "|".join(re.escape(p) for p in _PUNCT) + ")"
    r"|(?P<other>.)",
    re.S,
)


class Tok(NamedTuple):
    """One token: kind (ident, number, char, string, punct, other), its text, and its offset."""

    kind: str
    text: str
    pos: int

    @property
    def end(self) -> int:
        return self.pos + len(self.text)


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Tok]:
    """Tokens of text[start:end] (whitespace, newlines and line splices dropped), offsets into `text`."""
    end = len(text) if end is None else end
    out: list[Tok] = []
    append = out.append
    for m in _TOKEN_RE.finditer(text, start, end):
        kind = m.lastgroup
        if kind != "ws":
            append(Tok(kind, m.group(), m.start()))  # type: ignore[arg-type]
    return out


def join_tokens(texts: list[str]) -> str:
    """Join token texts into readable C: spaces between tokens, none inside brackets or before commas."""
    out = ""
    prev = ""
    for t in texts:
        if out and not (prev in "([" or t in ")],"):
            out += " "
        out += t
        prev = t
    return out


def int_literal(text: str) -> int | None:
    """The value of a C integer literal (decimal, hex, octal, binary; u/l suffixes), or None."""
    m = re.fullmatch(r"(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)([uU]?[lL]{0,2}|[lL]{1,2}[uU])", text)
    if not m:
        return None
    digits = m.group(1)
    if digits[:2] in ("0x", "0X"):
        return int(digits, 16)
    if digits[:2] in ("0b", "0B"):
        return int(digits[2:], 2)
    if len(digits) > 1 and digits[0] == "0":
        return int(digits, 8) if all(c in "01234567" for c in digits) else None
    return int(digits)


_ESCAPES = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, "'": 39, '"': 34, "a": 7, "b": 8, "f": 12, "v": 11, "?": 63}


def char_literal(text: str) -> int | None:
    """The value of a simple C character literal like 'a' or '\\n', or None."""
    body = text[1:-1]
    if len(body) == 1 and body != "\\":
        return ord(body)
    if len(body) == 2 and body[0] == "\\" and body[1] in _ESCAPES:
        return _ESCAPES[body[1]]
    return None
