"""Is a region's text C at all? Tells text a compiler would reject from C outside looper's subset.

looper's region grammar (frontend/grammar.lark) accepts only the affine subset of C, so its failure
alone cannot say whether the user wrote bad C or good C that is not a SCoP. This module decides:

- lexically, always: a stray character (`@`, a backslash, a non-ASCII symbol), an unterminated
  string or character literal, a malformed number (`1.2.3`, `09`) is not C (`malformed`);
- structurally, always: a bracket that is never closed, or closed by the wrong one, is not C;
- grammatically, only when the affine subset has rejected the region: the region must parse as a
  sequence of C statements and declarations under a permissive grammar of full C (frontend/
  recognizer.py: any identifier may name a type, since headers are not always read), either as
  written or after expanding the macros looper knows. A region that parses is C outside the subset;
  one that does not is not C.

An integer constant too large for C's widest types (which gcc itself warns about, silently changing
its value or type) is valid C, but looper leaves its region alone (`too_large_constant`).
"""

from __future__ import annotations

import re

from frontend.macros import Expander, Macro, PPTok
from frontend.recognizer import CTok, Recognizer
from frontend.source import SourceError

_INT = re.compile(
    r"(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)"
    r"(?:[uU](?:ll|LL|[lL])?|(?:ll|LL|[lL])[uU]?)?[iIjJ]?",
)
_FLOAT = re.compile(
    r"(?:(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+"
    r"|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+)"
    r"[iIjJ]?(?:[fFlL]|[fF](?:16|32|64|128)x?|[dD][fFdDlL]|[wWqQ])?[iIjJ]?",
)
_LLONG_MAX, _ULLONG_MAX = 2**63 - 1, 2**64 - 1

_KEYWORDS = {
    "if": "KW_IF",
    "else": "KW_ELSE",
    "while": "KW_WHILE",
    "do": "KW_DO",
    "for": "KW_FOR",
    "switch": "KW_SWITCH",
    "case": "KW_CASE",
    "default": "KW_DEFAULT",
    "goto": "KW_GOTO",
    "continue": "KW_CONTINUE",
    "break": "KW_BREAK",
    "return": "KW_RETURN",
    "sizeof": "KW_SIZEOF",
    "_Alignof": "KW_ALIGNOF",
    "alignof": "KW_ALIGNOF",
    "__alignof__": "KW_ALIGNOF",
    "struct": "KW_STRUCT",
    "union": "KW_STRUCT",
    "enum": "KW_ENUM",
}
_KEYWORDS.update(dict.fromkeys(["typedef", "static", "extern", "register", "auto", "_Thread_local"], "STORAGE"))
_KEYWORDS.update(
    dict.fromkeys(
        ["const", "volatile", "restrict", "__restrict", "__restrict__", "__const", "__volatile__", "__volatile",
         "inline", "__inline", "__inline__", "_Noreturn", "_Atomic"],
        "QUAL",
    )
)
_KEYWORDS.update(
    dict.fromkeys(
        ["void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "_Bool", "_Complex",
         "__int128", "__signed__", "bool"],
        "BASIC_TYPE",
    )
)
# Words followed by a parenthesized operand that the grammar treats as one opaque token.
_OPAQUE_CALLS = frozenset(["typeof", "__typeof__", "__typeof", "_Generic", "__builtin_va_arg",
                           "__builtin_offsetof", "__builtin_types_compatible_p"])
_CALL_TYPES = {"typeof": "TYPEOF", "__typeof__": "TYPEOF", "__typeof": "TYPEOF"}
_CALL_TYPES.update(dict.fromkeys(["asm", "__asm__", "__asm", "_Static_assert", "static_assert"], "ASM"))
_IGNORED_CALLS = frozenset(["__attribute__", "__attribute", "__declspec"])  # dropped with their operand
_STATEMENT_CALLS = frozenset(k for k, v in _CALL_TYPES.items() if v == "ASM")
_PUNCT_TYPES = {
    "(": "LPAR", ")": "RPAR", "[": "LSQB", "]": "RSQB", "{": "LBRACE", "}": "RBRACE", ";": "SEMI",
    ",": "COMMA", "?": "QMARK", ":": "COLON", "=": "ASSIGN", ".": "DOT", "->": "ARROW", "++": "INCDEC",
    "--": "INCDEC", "*": "STAR", "&": "AMP", "+": "PLUS", "-": "MINUS", "!": "BANG", "~": "TILDE",
    "...": "ELLIPSIS",
}
_PUNCT_TYPES.update(dict.fromkeys(["*=", "/=", "%=", "+=", "-=", "&=", "^=", "|=", "<<=", ">>="], "ASSIGN_OP"))
_PUNCT_TYPES.update(dict.fromkeys(["/", "%", "<<", ">>", "<", ">", "<=", ">=", "==", "!=", "^", "|", "&&", "||"],
                                  "BINOP"))
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_PUNCT = sorted(_PUNCT_TYPES, key=len, reverse=True)  # longest first: `<<=` before `<<` and `<`
_TOKEN = re.compile(
    r"(?P<ws>(?:[ \t\f\v\r\n]|\\\r?\n)+)"
    r"|(?P<char>(?:u8|[LuU])?'(?:[^'\\\n]|\\.)*')"
    r"|(?P<string>(?:u8|[LuU])?\"(?:[^\"\\\n]|\\.)*\")"
    r"|(?P<ident>(?:[^\W\d]|\$)(?:\w|\$)*)"  # C11 and gcc accept letters beyond ASCII, and `$`
    r"|(?P<number>\.?[0-9](?:[eEpP][+-]|[A-Za-z0-9_.])*)"
    r"|(?P<open>['\"])"
    r"|(?P<punct>" + "|".join(re.escape(p) for p in _PUNCT) + ")"
    r"|(?P<other>.)",
    re.S,
)


def scan(text: str, start: int, end: int) -> list[PPTok]:
    """The C tokens of text[start:end] (comments and directives already blanked); SourceError
    (malformed) at the first thing that is not a C token."""
    out: list[PPTok] = []
    prev_end = -1
    for m in _TOKEN.finditer(text, start, end):
        kind = m.lastgroup
        if kind == "ws":
            continue
        pos, tok = m.start(), m.group()
        if kind == "open":
            quote = "'" if tok == "'" else '"'
            raise SourceError(f"missing terminating {quote} character", pos, malformed=True)
        if kind == "other":
            raise SourceError(f"stray {tok!r} in program", pos, malformed=True)
        if kind == "number" and not (_INT.fullmatch(tok) or _FLOAT.fullmatch(tok)):
            raise SourceError(f"invalid number '{tok}'", pos, malformed=True)
        out.append(PPTok(kind, tok, pos, frozenset(), pos != prev_end))  # type: ignore[arg-type]
        prev_end = m.end()
    return out


def unbalanced(toks: list[PPTok]) -> SourceError | None:
    """The first bracket that is closed by the wrong one, never opened, or never closed (malformed)."""
    stack: list[PPTok] = []
    for t in toks:
        if t.kind != "punct":
            continue
        if t.text in "([{":
            stack.append(t)
        elif t.text in _CLOSERS:
            if not stack:
                return SourceError(f"'{t.text}' without a matching '{_CLOSERS[t.text]}' in the region", t.pos,
                                   malformed=True)
            opener = stack.pop()
            if opener.text != _CLOSERS[t.text]:
                return SourceError(f"'{t.text}' closes a '{opener.text}' (expected the '{opener.text}' to be "
                                   "closed first)", t.pos, malformed=True)
    if stack:
        return SourceError(f"this '{stack[-1].text}' is not closed before '#pragma endscop'", stack[-1].pos,
                           malformed=True)
    return None


def too_large_constant(toks: list[PPTok]) -> SourceError | None:
    """An integer constant that gcc would give another value or type (not a SCoP, not malformed)."""
    for t in toks:
        m = _INT.fullmatch(t.text) if t.kind == "number" else None
        if m is None:
            continue
        digits = m.group(1)
        base = 16 if digits[:2] in ("0x", "0X") else 2 if digits[:2] in ("0b", "0B") else 8 if digits[0] == "0" else 10
        value = int(digits[2:] if base in (2, 16) else digits, base) if digits != "0" else 0
        unsigned = "u" in t.text.lower()
        if value > _ULLONG_MAX or (value > _LLONG_MAX and not unsigned):
            return SourceError(f"integer constant {t.text} is too large for its type", t.pos)
    return None


def region_tokens(view: str, start: int, end: int) -> list[PPTok]:
    """The tokens of a region's body, checked lexically and for balanced brackets (SourceError, malformed)."""
    toks = scan(view, start, end)
    problem = unbalanced(toks)
    if problem is not None:
        raise problem
    return toks


def syntax_error(toks: list[PPTok], end: int, macros: dict[str, Macro]) -> SourceError | None:
    """Why the tokens are not a sequence of C statements and declarations, or None if they are.

    Tried as written, then with the macros looper knows expanded: text that is C only after that
    (`LOOP(i, n) body`) gives an error that is not `malformed` (C, but not readable as written)."""
    first = _parse(toks, end)
    if first is None:
        return None
    try:
        expanded = Expander(macros).expand(toks)
    except SourceError:
        return first
    if expanded == toks or _parse(expanded, end) is not None:
        return first
    code_like = [t for t in toks if t.kind == "ident" and t.text in macros and _stands_for_code(macros[t.text])]
    use = code_like[0] if code_like else toks[0]
    what = f"the macro '{use.text}' stands for code, not a value" if code_like else "its macros stand for code"
    return SourceError(f"this region is C only once its macros are expanded ({what}); looper reads a region as "
                       "written", use.pos)


def _stands_for_code(m: Macro) -> bool:
    """Whether a macro's body holds statements or a loop header rather than an expression."""
    return any(t.text in ("for", "if", "while", "do", "switch", ";", "{", "}", "return") for t in m.body)


def _terminals(toks: list[PPTok]) -> list[CTok]:
    """The grammar's terminals; `__attribute__((...))` dropped, `typeof(...)` and the like made one token."""
    out: list[CTok] = []
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        typ = "IDENT"
        if t.kind == "ident":
            word = t.text
            if word in _IGNORED_CALLS or word in _OPAQUE_CALLS or word in _STATEMENT_CALLS:
                k = i + 1
                while k < n and toks[k].kind == "ident" and toks[k].text in ("volatile", "__volatile__", "goto",
                                                                              "inline"):
                    k += 1  # asm qualifiers
                if k < n and toks[k].text == "(":
                    close = _matching(toks, k)
                    if word not in _IGNORED_CALLS:
                        out.append(CTok(_CALL_TYPES.get(word, "OPAQUE"), word, t.pos))
                    i = close + 1
                    continue
            elif word == "__extension__":
                i += 1
                continue
            typ = _KEYWORDS.get(word, "IDENT")
        elif t.kind == "number":
            typ = "NUMBER"
        elif t.kind == "char":
            typ = "CHAR"
        elif t.kind == "string":
            typ = "STRING"
        else:
            typ = _PUNCT_TYPES.get(t.text, "")
            if not typ:
                raise SourceError(f"stray {t.text!r} in program", t.pos, malformed=True)
        out.append(CTok(typ, t.text, t.pos))
        i += 1
    return out


def _matching(toks: list[PPTok], k: int) -> int:
    depth = 0
    for j in range(k, len(toks)):
        if toks[j].text == "(":
            depth += 1
        elif toks[j].text == ")":
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1


def _parse(toks: list[PPTok], end: int) -> SourceError | None:
    """None if the tokens parse as C statements and declarations, else the error at the furthest point reached."""
    failure = Recognizer(_terminals(toks), end).check()
    if failure is None:
        return None
    return SourceError(failure[1], failure[0], malformed=True)
