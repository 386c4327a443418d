"""Parse a region's text with the lark grammar into statements around `looper.expr` trees."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import Lexer

from frontend.declarations import TYPE_KEYWORDS
from frontend.source import SourceError
from frontend.syntax import (
    Block,
    Declarator,
    DeclStmt,
    EmptyStmt,
    ExprStmt,
    ForStmt,
    IfStmt,
    IncDec,
    ParsedRegion,
)
from frontend.tokens import Tok, tokenize
from looper.expr import Assign, Binary, Call, Cast, Expr, Index, Name, Num, Ternary, Unary

_QUALIFIER_KW = frozenset(["const", "volatile", "static", "register", "restrict"])

_PUNCT_TYPES = {
    "(": "LPAR",
    ")": "RPAR",
    "[": "LSQB",
    "]": "RSQB",
    "{": "LBRACE",
    "}": "RBRACE",
    ";": "SEMI",
    ",": "COMMA",
    "?": "QMARK",
    ":": "COLON",
    "=": "ASSIGN",
    "||": "OROR",
    "&&": "ANDAND",
    "|": "BAR",
    "^": "CARET",
    "&": "AMP",
    "==": "EQOP",
    "!=": "EQOP",
    "<": "RELOP",
    ">": "RELOP",
    "<=": "RELOP",
    ">=": "RELOP",
    "<<": "SHIFTOP",
    ">>": "SHIFTOP",
    "+": "PLUS",
    "-": "MINUS",
    "*": "STAR",
    "/": "DIVOP",
    "%": "DIVOP",
    "!": "BANG",
    "~": "TILDE",
    "++": "INC",
    "--": "DEC",
    ".": "DOT",
    "->": "ARROW",
}
for _op in ("+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="):
    _PUNCT_TYPES[_op] = "COMPOUND_ASSIGN"

# Keywords outside the affine subset, each with the reason given to the user.
_REJECTED_KEYWORDS = {
    "while": "'while' loops are not supported: a Scop has only 'for' loops with affine bounds",
    "do": "'do' loops are not supported: a Scop has only 'for' loops with affine bounds",
    "goto": "'goto' is not supported: control flow in a Scop must be static",
    "break": "'break' is not supported: control flow in a Scop must be static (the trip count must not depend on it)",
    "continue": "'continue' is not supported: control flow in a Scop must be static",
    "return": "'return' is not supported inside a scop region",
    "switch": "'switch' is not supported; write it as if/else with affine conditions",
    "case": "'case' is not supported; write it as if/else with affine conditions",
    "default": "'default' is not supported; write it as if/else with affine conditions",
    "sizeof": "'sizeof' is not supported inside a scop region",
    "struct": "struct types are not supported inside a scop region",
    "union": "union types are not supported inside a scop region",
    "enum": "enum declarations are not supported inside a scop region",
    "typedef": "typedef is not supported inside a scop region",
    "asm": "inline assembly is not supported inside a scop region",
}


class _TokenFeed(Lexer):
    """A lark 'lexer' that hands over the tokens frontend.parse already made."""

    def __init__(self, lexer_conf) -> None:
        pass

    def lex(self, data, *_args) -> Iterator[Token]:  # type: ignore[override]
        yield from data


@lru_cache(maxsize=1)
def _parser() -> tuple[Lark, _Build]:
    """The LALR parser with its tree builder run inline (no parse tree), built once per process.

    The builder is shared, so parsing is not thread-safe (isl is not either: use processes).
    """
    grammar = (Path(__file__).parent / "grammar.lark").read_text()
    builder = _Build()
    lark = Lark(
        grammar, parser="lalr", lexer=_TokenFeed, start=["region", "expression"], transformer=builder, cache=True
    )
    return lark, builder


def lark_tokens(toks: list[Tok], is_type: Callable[[str], bool], text: str = "") -> list[Token]:
    """Classify C tokens as the grammar's terminals; reject what the affine subset cannot contain."""
    out: list[Token] = []
    i = 0
    n = len(toks)
    while i < n:
        t = toks[i]
        kind = t.kind
        if kind == "ident":
            word = t.text
            if word == "for":
                typ = "FOR"
            elif word == "if":
                typ = "IF"
            elif word == "else":
                typ = "ELSE"
            elif word in TYPE_KEYWORDS or word in _QUALIFIER_KW:
                typ = "TYPE_KW"
            elif word in _REJECTED_KEYWORDS:
                raise SourceError(_REJECTED_KEYWORDS[word], t.pos)
            elif is_type(word):
                typ = "TYPE_NAME"
            else:
                typ = "IDENT"
        elif kind == "number":
            typ = "NUMBER"
        elif kind == "char":
            typ = "CHAR"
        elif kind == "string":
            typ = "STRING"
        elif t.text == "#" and text and _starts_line(text, t.pos):
            i = _skip_directive(toks, i, text)
            continue
        else:
            if t.text == "(" and [x.text for x in toks[i + 1 : i + 5 : 2]] == ["*", ")"] and i + 4 < n \
                    and toks[i + 2].kind == "ident" and toks[i + 4].text == "(":
                raise SourceError(
                    f"'(*{toks[i + 2].text})(...)' is a call through a function pointer: not supported, since what "
                    "it calls is known only at run time",
                    t.pos,
                )
            punct = _PUNCT_TYPES.get(t.text)
            if punct is None:
                what = "unterminated literal" if t.text in "'\"" else f"unexpected character {t.text!r}"
                if ("a" + t.text).isidentifier():
                    what = f"an identifier with the non-ASCII character {t.text!r} is not supported"
                raise SourceError(f"{what} in a scop region", t.pos)
            typ = punct
        out.append(Token(typ, t.text, t.pos, None, None, None, None, t.pos + len(t.text)))
        i += 1
    return out


def _starts_line(text: str, pos: int) -> bool:
    """True when only blanks precede `pos` on its line."""
    k = pos - 1
    while k >= 0 and text[k] in " \t":
        k -= 1
    return k < 0 or text[k] == "\n"


def _skip_directive(toks: list[Tok], i: int, text: str) -> int:
    """Skip a `#pragma` line inside a region (index of the next token); other directives are errors."""
    t = toks[i]
    word = toks[i + 1].text if i + 1 < len(toks) else ""
    if word != "pragma":
        raise SourceError(f"preprocessor directive '#{word}' inside a scop region is not supported", t.pos)
    end = t.pos
    while True:
        nl = text.find("\n", end)
        if nl < 0:
            end = len(text)
            break
        if text[nl - 1] == "\\" or (text[nl - 1] == "\r" and text[nl - 2] == "\\"):
            end = nl + 1
            continue
        end = nl
        break
    while i < len(toks) and toks[i].pos < end:
        i += 1
    return i


class _Build(Transformer):
    """Turns parse-tree nodes into statements and `looper.expr` nodes, recording each node's span."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: dict[int, tuple[int, int]] = {}

    def _span(self, x: object) -> tuple[int, int]:
        if isinstance(x, Token):
            return x.start_pos, x.end_pos  # type: ignore[return-value]
        return self.spans.get(id(x), (0, 0))

    def _node(self, node: Expr, first: object, last: object) -> Expr:
        self.spans[id(node)] = (self._span(first)[0], self._span(last)[1])
        return node

    # Expressions.
    def name(self, c):
        return self._node(Name(str(c[0])), c[0], c[0])

    def number(self, c):
        return self._node(Num(str(c[0])), c[0], c[0])

    def string(self, c):
        return self._node(Num(" ".join(str(t) for t in c)), c[0], c[-1])

    def paren(self, c):
        inner = c[1]
        self.spans[id(inner)] = (self._span(c[0])[0], self._span(c[2])[1])
        return inner

    def binop(self, c):
        return self._node(Binary(str(c[1]), c[0], c[2]), c[0], c[2])

    def unop(self, c):
        op = str(c[0])
        if op == "*":
            raise SourceError("pointer dereference '*' is not supported: use array subscripts", c[0].start_pos)
        if op == "&":
            raise SourceError("taking an address with '&' is not supported in a scop region", c[0].start_pos)
        return self._node(Unary(op, c[1]), c[0], c[1])

    def preinc(self, c):
        return self._node(IncDec(str(c[0]), c[1], True), c[0], c[1])

    def postinc(self, c):
        return self._node(IncDec(str(c[1]), c[0], False), c[0], c[1])

    def member(self, c):
        raise SourceError(
            f"member access '{c[1]}{c[2]}' is not supported: a Scop reads and writes arrays and scalars only",
            c[1].start_pos,
        )

    def cast(self, c):
        return self._node(Cast(c[1], c[3]), c[0], c[3])

    def type_spec(self, c):
        return c[0]

    def type_name(self, c):
        words = [str(t) for t in c if t.type != "STAR"]
        stars = sum(1 for t in c if t.type == "STAR")
        return " ".join(words) + ("*" * stars and " " + "*" * stars)

    def index(self, c):
        base, sub = c[0], c[2]
        if isinstance(base, Index):
            node = Index(base.array, (*base.indices, sub))
        elif isinstance(base, Name):
            node = Index(base.name, (sub,))
        else:
            raise SourceError("only array names can be subscripted", self._span(base)[0])
        return self._node(node, base, c[3])

    def call(self, c):
        func = c[0]
        if not isinstance(func, Name):
            raise SourceError("only functions named as written can be called (not through a pointer or an expression)",
                              self._span(func)[0])
        args = tuple(c[2] or ())
        return self._node(Call(func.name, args), func, c[3])

    def args(self, c):
        return [x for x in c if not isinstance(x, Token)]

    def assign(self, c):
        target, op, value = c
        if isinstance(target, Name):
            t = Index(target.name, ())
            self.spans[id(t)] = self._span(target)
            target = t
        if not isinstance(target, Index):
            raise SourceError(
                "the left side of an assignment must be a variable or an array element", self._span(target)[0]
            )
        return self._node(Assign(str(op), target, value), target, value)

    def ternary(self, c):
        return self._node(Ternary(c[0], c[2], c[4]), c[0], c[4])

    # Statements.
    def region(self, c):
        return c

    def expression(self, c):
        return c[0]

    def expr_stmt(self, c):
        start, end = self._span(c[0])
        return ExprStmt(c[0], start, end)

    def empty_stmt(self, c):
        return EmptyStmt(c[0].start_pos)

    def block(self, c):
        return Block(list(c[1:-1]), c[0].start_pos)

    def for_decl(self, c):
        types = [str(t) for t in c[:-3]]
        return ("decl", " ".join(types), c[-3], c[-1])

    def for_init(self, c):
        return c[0]

    def for_stmt(self, c):
        init, cond, step, body = c[2], c[4], c[6], c[8]
        stmt = ForStmt(None, cond, step, body, c[0].start_pos)
        if isinstance(init, tuple):
            _tag, typ, name_tok, value = init
            # `for (int i = e; ...)`: the same as `i = e` with i declared by the loop.
            target = Index(str(name_tok), ())
            self.spans[id(target)] = self._span(name_tok)
            assign = Assign("=", target, value)
            self.spans[id(assign)] = (self._span(name_tok)[0], self._span(value)[1])
            stmt.init, stmt.decl_type = assign, typ
        else:
            stmt.init = init
        return stmt

    def if_stmt(self, c):
        return IfStmt(c[2], c[4], c[6], c[0].start_pos)

    def dim(self, c):
        return c[1]

    def init_declarator(self, c):
        name = c[0]
        dims = [d for d in c[1:-2]]
        init = c[-1]
        end = self._span(init)[1] if init is not None else name.end_pos
        return Declarator(str(name), dims, init, name.start_pos, end)

    def decl_stmt(self, c):
        types = [str(t) for t in c if isinstance(t, Token) and t.type in ("TYPE_KW", "TYPE_NAME")]
        items = [x for x in c if isinstance(x, Declarator)]
        return DeclStmt(" ".join(types), items, c[0].start_pos)


def _run(tokens: list[Token], start: str, end_offset: int) -> tuple[dict[int, tuple[int, int]], object]:
    lark, builder = _parser()
    builder.spans = {}
    try:
        result = lark.parse(tokens, start=start)
    except UnexpectedEOF:
        raise SourceError("unexpected end of the region: a '}', ')' or ';' is missing", end_offset) from None
    except UnexpectedToken as exc:
        tok = exc.token
        if tok.type == "$END":
            raise SourceError("unexpected end of the region: a '}', ')' or ';' is missing", end_offset) from None
        previous = next((t for t in reversed(tokens) if t.start_pos < tok.start_pos), None)
        if tok.type == "IDENT" and previous is not None and previous.type == "IDENT":
            # `real_t t = ...`: C when real_t is a type from a header looper has not read.
            raise SourceError(
                f"unknown type name '{previous}' (looper knows the file's typedefs, its \"...\" headers' and "
                "the <stdint.h> names)",
                previous.start_pos or 0,
            ) from None
        hint = _hint(tok) or (" (is a ';' missing before it?)" if "SEMI" in (exc.expected or ()) else "")
        raise SourceError(f"unexpected {str(tok)!r}{hint}", tok.start_pos) from None
    except UnexpectedInput as exc:
        offset = getattr(exc, "pos_in_stream", 0) or 0
        raise SourceError(f"cannot parse this ({exc.__class__.__name__})", offset) from None
    spans, builder.spans = builder.spans, {}
    return spans, result


def _hint(tok: Token) -> str:
    if tok.type in ("INC", "DEC"):
        return " (increments are only supported as for-loop steps; write x += 1)"
    if tok.type == "COMMA":
        return " (the comma operator is not supported)"
    if tok.type == "STAR":
        return " (pointers are not supported)"
    return ""


def parse_region(text: str, start: int, end: int, is_type: Callable[[str], bool]) -> ParsedRegion:
    """Parse text[start:end] (comment-free) as a sequence of statements."""
    toks = lark_tokens(tokenize(text, start, end), is_type, text)
    spans, items = _run(toks, "region", end)
    return ParsedRegion(items, spans)  # type: ignore[arg-type]


def parse_expression(toks: list[Tok], is_type: Callable[[str], bool]) -> Expr:
    """Parse tokens (a macro's expansion) as one expression."""
    lark_toks = lark_tokens(toks, is_type)
    end = toks[-1].end if toks else 0
    _spans, expr = _run(lark_toks, "expression", end)
    return expr  # type: ignore[return-value]
