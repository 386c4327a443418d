"""A permissive recognizer of C statements and declarations: does a token list parse as C?

Recursive descent with local backtracking, linear in practice. Permissive where C's grammar depends
on declarations looper may not have read: any identifier may name a type (`T x;`, `(T) y`), and
where a statement reads both as a declaration and as an expression (`a * b;`) either is accepted.
Precedence is ignored (only whether the text parses matters, not how). Token types are those of
frontend/validity.py's classifier; the result is None or the furthest point the parse reached.
"""

from __future__ import annotations

from typing import NamedTuple


class CTok(NamedTuple):
    """One classified token: grammar type (IDENT, SEMI, KW_IF, ...), text, offset."""

    type: str
    text: str
    pos: int


class _Fail(Exception):
    pass


_BINOPS = frozenset(["BINOP", "STAR", "AMP", "PLUS", "MINUS"])
_UNARY = frozenset(["STAR", "AMP", "PLUS", "MINUS", "BANG", "TILDE"])
_SPEC = frozenset(["STORAGE", "QUAL"])
_DESCRIBE = {"SEMI": "';'", "RPAR": "')'", "RSQB": "']'", "RBRACE": "'}'", "COLON": "':'", "LPAR": "'('",
             "IDENT": "an identifier", "KW_WHILE": "'while'"}


class Recognizer:
    """Parses a whole token list as a sequence of block items; `check()` says where it fails."""

    def __init__(self, toks: list[CTok], end: int) -> None:
        self.toks = toks
        self.n = len(toks)
        self.i = 0
        self.end = end  # offset reported for errors at the end of the tokens
        self.furthest = -1
        self.why = ""

    def check(self) -> tuple[int, str] | None:
        """None when the tokens are C statements and declarations, else (offset, message)."""
        try:
            while self.i < self.n:
                self._item()
        except _Fail:
            at = self.furthest
            pos = self.toks[at].pos if at < self.n else self.end
            found = f"before '{self.toks[at].text}'" if at < self.n else "before '#pragma endscop'"
            return pos, f"expected {self.why} {found}"
        return None

    # Helpers.
    def _peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.toks[j].type if j < self.n else "END"

    def _fail(self, what: str):
        if self.i > self.furthest:
            self.furthest, self.why = self.i, what
        raise _Fail

    def _eat(self, typ: str) -> None:
        if self._peek() != typ:
            self._fail(_DESCRIBE.get(typ, typ.lower()))
        self.i += 1

    def _try(self, parse) -> bool:
        """Run `parse`; on failure rewind and return False."""
        start = self.i
        try:
            parse()
            return True
        except _Fail:
            self.i = start
            return False

    # Statements.
    def _item(self) -> None:
        if self._peek() == "IDENT" and self._peek(1) == "COLON":  # a label (may end a block, as in C23)
            self.i += 2
            if self._peek() not in ("RBRACE", "END"):
                self._item()
            return
        if self._may_declare() and self._try(self._declaration):
            return
        self._statement()

    def _may_declare(self) -> bool:
        t = self._peek()
        if t in ("STORAGE", "QUAL", "BASIC_TYPE", "KW_STRUCT", "KW_ENUM", "TYPEOF"):
            return True
        return t == "IDENT" and self._peek(1) in ("IDENT", "STAR", "QUAL", "LPAR")

    def _statement(self) -> None:
        t = self._peek()
        if t == "LBRACE":
            self._compound()
        elif t == "SEMI":
            self.i += 1
        elif t == "KW_IF":
            self.i += 1
            self._paren_expr()
            self._statement()
            if self._peek() == "KW_ELSE":
                self.i += 1
                self._statement()
        elif t in ("KW_SWITCH", "KW_WHILE"):
            self.i += 1
            self._paren_expr()
            self._statement()
        elif t == "KW_DO":
            self.i += 1
            self._statement()
            self._eat("KW_WHILE")
            self._paren_expr()
            self._eat("SEMI")
        elif t == "KW_FOR":
            self._for()
        elif t == "KW_GOTO":
            self.i += 1
            if self._peek() == "STAR":
                self.i += 1
                self._cast()
            else:
                self._eat("IDENT")
            self._eat("SEMI")
        elif t in ("KW_CONTINUE", "KW_BREAK", "ASM"):
            self.i += 1
            self._eat("SEMI")
        elif t == "KW_RETURN":
            self.i += 1
            if self._peek() != "SEMI":
                self._expr()
            self._eat("SEMI")
        elif t == "KW_CASE":
            self.i += 1
            self._conditional()
            if self._peek() == "ELLIPSIS":
                self.i += 1
                self._conditional()
            self._eat("COLON")
            self._statement()
        elif t == "KW_DEFAULT":
            self.i += 1
            self._eat("COLON")
            self._statement()
        elif t == "IDENT" and self._peek(1) == "COLON":
            self.i += 2
            self._statement()
        else:
            self._expr()
            self._eat("SEMI")

    def _compound(self) -> None:
        self._eat("LBRACE")
        while self._peek() not in ("RBRACE", "END"):
            self._item()
        self._eat("RBRACE")

    def _paren_expr(self) -> None:
        self._eat("LPAR")
        self._expr()
        self._eat("RPAR")

    def _for(self) -> None:
        self.i += 1
        self._eat("LPAR")
        if not (self._may_declare() and self._try(self._declaration)):
            if self._peek() != "SEMI":
                self._expr()
            self._eat("SEMI")
        if self._peek() != "SEMI":
            self._expr()
        self._eat("SEMI")
        if self._peek() != "RPAR":
            self._expr()
        self._eat("RPAR")
        self._statement()

    # Declarations.
    def _declaration(self) -> None:
        self._specifiers()
        if self._peek() != "SEMI":
            self._init_declarator()
            while self._peek() == "COMMA":
                self.i += 1
                self._init_declarator()
        self._eat("SEMI")

    def _specifiers(self) -> None:
        """Storage classes, qualifiers and one type: keywords (`unsigned long`), a name, struct or enum."""
        basic = named = False
        while True:
            t = self._peek()
            if t in _SPEC:
                self.i += 1
            elif t == "BASIC_TYPE" and not named:
                basic = True
                self.i += 1
            elif t in ("IDENT", "TYPEOF") and not (basic or named):
                named = True
                self.i += 1
            elif t == "KW_STRUCT" and not (basic or named):
                named = True
                self._struct()
            elif t == "KW_ENUM" and not (basic or named):
                named = True
                self._enum()
            else:
                break
        if not (basic or named):
            self._fail("a type")

    def _tag(self) -> bool:
        """`struct` or `enum` and its name, if any; True when a body follows (its `{` eaten)."""
        self.i += 1
        has_name = self._peek() == "IDENT"
        if has_name:
            self.i += 1
        if self._peek() != "LBRACE":
            if not has_name:
                self._fail("a name or '{'")
            return False
        self.i += 1
        return True

    def _struct(self) -> None:
        if not self._tag():
            return
        while self._peek() not in ("RBRACE", "END"):
            self._specifiers()
            while self._peek() != "SEMI":
                if self._peek() != "COLON":
                    self._declarator(abstract=False)
                if self._peek() == "COLON":  # a bit-field
                    self.i += 1
                    self._conditional()
                if self._peek() != "COMMA":
                    break
                self.i += 1
            self._eat("SEMI")
        self._eat("RBRACE")

    def _enum(self) -> None:
        if not self._tag():
            return
        while self._peek() != "RBRACE":
            self._eat("IDENT")
            if self._peek() == "ASSIGN":
                self.i += 1
                self._conditional()
            if self._peek() != "COMMA":
                break
            self.i += 1
        self._eat("RBRACE")

    def _init_declarator(self) -> None:
        self._declarator(abstract=False)
        if self._peek() == "ASM":
            self.i += 1
        if self._peek() == "ASSIGN":
            self.i += 1
            self._initializer()

    def _declarator(self, abstract: bool) -> None:
        """`*const p`, `A[N][M]`, `(*f)(int)`; with `abstract`, the name may be missing (`int *`, `double[3]`)."""
        while self._peek() == "STAR":
            self.i += 1
            while self._peek() in _SPEC:
                self.i += 1
        t = self._peek()
        if t == "IDENT":
            self.i += 1
        elif t == "LPAR" and (not abstract or self._peek(1) in ("STAR", "LPAR", "LSQB", "IDENT")) and \
                self._try(self._nested_declarator(abstract)):
            pass
        elif not abstract:
            self._fail("an identifier")
        while True:
            t = self._peek()
            if t == "LSQB":
                self.i += 1
                while self._peek() in _SPEC:
                    self.i += 1
                if self._peek() == "STAR" and self._peek(1) == "RSQB":
                    self.i += 1
                elif self._peek() != "RSQB":
                    self._assignment()
                self._eat("RSQB")
            elif t == "LPAR":
                self.i += 1
                self._parameters()
                self._eat("RPAR")
            else:
                return

    def _nested_declarator(self, abstract: bool):
        def parse() -> None:
            self._eat("LPAR")
            self._declarator(abstract)
            self._eat("RPAR")

        return parse

    def _parameters(self) -> None:
        if self._peek() == "RPAR":
            return
        while True:
            if self._peek() == "ELLIPSIS":
                self.i += 1
                return
            self._specifiers()
            self._declarator(abstract=True)
            if self._peek() != "COMMA":
                return
            self.i += 1

    def _initializer(self) -> None:
        if self._peek() == "LBRACE":
            self._braced()
        else:
            self._assignment()

    def _braced(self) -> None:
        self._eat("LBRACE")
        while self._peek() != "RBRACE":
            designated = False
            while self._peek() in ("LSQB", "DOT"):
                designated = True
                if self._peek() == "DOT":
                    self.i += 1
                    self._eat("IDENT")
                else:
                    self.i += 1
                    self._conditional()
                    if self._peek() == "ELLIPSIS":
                        self.i += 1
                        self._conditional()
                    self._eat("RSQB")
            if designated:
                self._eat("ASSIGN")
            self._initializer()
            if self._peek() != "COMMA":
                break
            self.i += 1
        self._eat("RBRACE")

    def _type_name(self) -> None:
        self._specifiers()
        self._declarator(abstract=True)

    # Expressions.
    def _expr(self) -> None:
        self._assignment()
        while self._peek() == "COMMA":
            self.i += 1
            self._assignment()

    def _assignment(self) -> None:
        self._conditional()
        if self._peek() in ("ASSIGN", "ASSIGN_OP"):
            self.i += 1
            self._assignment()

    def _conditional(self) -> None:
        self._binary()
        if self._peek() == "QMARK":
            self.i += 1
            if self._peek() != "COLON":  # gcc's `a ?: b`
                self._expr()
            self._eat("COLON")
            self._conditional()

    def _binary(self) -> None:
        self._cast()
        while self._peek() in _BINOPS:
            self.i += 1
            self._cast()

    def _cast(self) -> None:
        if self._peek() == "LPAR" and self._peek(1) in ("IDENT", "BASIC_TYPE", "QUAL", "KW_STRUCT", "KW_ENUM",
                                                        "TYPEOF") and self._try(self._cast_or_literal):
            return
        self._unary()

    def _cast_or_literal(self) -> None:
        self._eat("LPAR")
        self._type_name()
        self._eat("RPAR")
        if self._peek() == "LBRACE":  # a compound literal
            self._braced()
            self._postfix_ops()
        else:
            self._cast()

    def _unary(self) -> None:
        t = self._peek()
        if t == "INCDEC":
            self.i += 1
            self._unary()
        elif t in _UNARY:
            self.i += 1
            self._cast()
        elif t == "BINOP" and self.toks[self.i].text == "&&":  # gcc's address of a label
            self.i += 1
            self._eat("IDENT")
        elif t in ("KW_SIZEOF", "KW_ALIGNOF"):
            self.i += 1
            if self._peek() == "LPAR" and self._try(self._parenthesized_type):
                return
            self._unary()
        else:
            self._primary()
            self._postfix_ops()

    def _parenthesized_type(self) -> None:
        self._eat("LPAR")
        self._type_name()
        self._eat("RPAR")
        if self._peek() == "LBRACE":  # `sizeof (T){...}` is a compound literal's size
            self._fail("not a compound literal")

    def _postfix_ops(self) -> None:
        while True:
            t = self._peek()
            if t == "LSQB":
                self.i += 1
                self._expr()
                self._eat("RSQB")
            elif t == "LPAR":
                self.i += 1
                if self._peek() != "RPAR":
                    self._assignment()
                    while self._peek() == "COMMA":
                        self.i += 1
                        self._assignment()
                self._eat("RPAR")
            elif t in ("DOT", "ARROW"):
                self.i += 1
                self._eat("IDENT")
            elif t == "INCDEC":
                self.i += 1
            else:
                return

    def _primary(self) -> None:
        t = self._peek()
        if t in ("IDENT", "NUMBER", "CHAR", "OPAQUE"):
            self.i += 1
        elif t == "STRING":
            while self._peek() == "STRING":
                self.i += 1
        elif t == "LPAR":
            self.i += 1
            if self._peek() == "LBRACE":  # gcc's statement expression
                self._compound()
            else:
                self._expr()
            self._eat("RPAR")
        else:
            self._fail("an expression")
