"""Calls in statement bodies: which functions a call reaches, and which of them looper may take as pure.

looper's policy: a function of C's math library (<math.h>, C99, with its `f` and `l` variants, and
`abs`/`labs`/`llabs`) is pure and needs no word. Any other function called by name is assumed free of
side effects (it reads only its arguments and writes nothing), with a warning. A call through a function
pointer is refused (its region is left untouched): what it calls is known only at run time. A
function-like macro is looked through: `SQRT_FUN(x)` defined as `sqrt(x)` is a call of `sqrt`.
"""

from __future__ import annotations

from frontend.macros import Expander, Macro, PPTok
from frontend.source import SourceError
from frontend.tokens import tokenize
from looper.expr import Call

_MATH_BASE = [
    "acos", "asin", "atan", "atan2", "cos", "sin", "tan", "acosh", "asinh", "atanh", "cosh", "sinh", "tanh",
    "exp", "exp2", "expm1", "frexp", "ilogb", "ldexp", "log", "log10", "log1p", "log2", "logb", "modf",
    "scalbn", "scalbln", "cbrt", "fabs", "hypot", "pow", "sqrt", "erf", "erfc", "lgamma", "tgamma", "ceil",
    "floor", "nearbyint", "rint", "lrint", "llrint", "round", "lround", "llround", "trunc", "fmod",
    "remainder", "remquo", "copysign", "nan", "nextafter", "nexttoward", "fdim", "fmax", "fmin", "fma",
]
MATH_FUNCTIONS = frozenset(
    [*_MATH_BASE, *(f + "f" for f in _MATH_BASE), *(f + "l" for f in _MATH_BASE), "abs", "labs", "llabs"]
)

_OPERATORS = frozenset(["sizeof", "_Alignof", "alignof"])


def callees(call: Call, macros: dict[str, Macro]) -> list[str] | None:
    """The functions a call in a body reaches: its own name, or, for a macro, the names its expansion
    calls (none for `((a) > (b) ? (a) : (b))`); None when the macro cannot be expanded."""
    if call.func not in macros:
        return [call.func]
    try:
        toks = [PPTok(t.kind, t.text, 0) for t in tokenize(call.to_c())]
        expanded = Expander(macros).expand(toks)
    except (SourceError, TypeError, RecursionError):
        return None
    return [
        t.text
        for k, t in enumerate(expanded[:-1])
        if t.kind == "ident" and expanded[k + 1].text == "(" and t.text not in _OPERATORS
    ]
