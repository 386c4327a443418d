"""N variants of a program as one C file: every changed function once per variant, chosen at run time.

The variants are whole programs as `looper-opt` writes them: the original with some `#pragma scop`
regions replaced. They differ from the original only inside functions (a kernel function, or main
when the region is there). The composed file is the original program with:

- each function that some variant changes defined once per distinct version, `F__looper0` (the
  original) to `F__looperK`, none inlined, and every later use of `F` going through a pointer
  (`#define F (*looper_ptr_F)`), so that main(), the arrays it allocates and the code that
  initializes them are shared by all variants;
- main() renamed (a library's `main` would be the Python executable's);
- `looper_region_begin()`/`looper_region_end()` around every region (the runtime times and flushes);
- `looper_run(v)`: points every changed function at variant v's version, runs main() with fresh
  state, and returns the seconds spent in the regions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from codegen.harness.runtime import DECLARATIONS
from frontend.preprocess import code_view, strip_comments
from frontend.regions import RegionSpan, find_regions
from frontend.tokens import Tok, tokenize

MAIN = "looper_program_main"


class ComposeError(ValueError):
    """The program cannot be composed (no main(), a variant that changes more than functions, ...)."""


@dataclass(frozen=True)
class _Function:
    """A function definition at file scope: from its first header token to its closing brace."""

    name: str
    start: int
    end: int


@dataclass(frozen=True)
class Composed:
    """The composed C text and where each requested variant went."""

    text: str
    count: int  # versions in the library: 0 is the original, then one per distinct variant
    slots: tuple[int | None, ...]  # each requested variant's version (None: not composed, see errors)
    errors: dict[int, str]


def _scan(text: str) -> tuple[list[_Function], list[tuple[int, int]]]:
    """The function definitions and the other top-level declarations (spans) of C text."""
    view = code_view(strip_comments(text))
    toks = tokenize(view)
    functions: list[_Function] = []
    declarations: list[tuple[int, int]] = []
    chunk, i = 0, 0
    while i < len(toks):
        t = toks[i]
        if t.text == "{":
            close = _matching(toks, i)
            name = _function_name(toks[chunk:i])
            if name is not None:
                functions.append(_Function(name, toks[chunk].pos, toks[close].end))
                chunk = close + 1
            i = close + 1
            continue
        if t.text == ";":
            declarations.append((toks[chunk].pos, t.end))
            chunk = i + 1
        i += 1
    return functions, declarations


def _matching(toks: list[Tok], i: int) -> int:
    """Index of the brace closing the one at `i` (the last token if unbalanced)."""
    depth = 0
    for k in range(i, len(toks)):
        depth += {"{": 1, "}": -1}.get(toks[k].text, 0)
        if depth == 0:
            return k
    return len(toks) - 1


def _function_name(header: list[Tok]) -> str | None:
    """`static void kernel(int n, double A[n])` -> "kernel"; None if the tokens are not a function header."""
    end = len(header)
    while end and header[end - 1].text == ")":
        depth, k = 0, end - 1
        while k >= 0:
            depth += {")": 1, "(": -1}.get(header[k].text, 0)
            if depth == 0:
                break
            k -= 1
        if k <= 0 or header[k - 1].kind != "ident":
            return None
        if header[k - 1].text not in ("__attribute__", "__attribute"):
            return header[k - 1].text
        end = k - 1  # `f(...) __attribute__((...))`: the name is before the attribute
    return None


def _timed(text: str) -> str:
    """Function text with the runtime's timer calls just inside every `#pragma scop` region."""
    regions = [r for r in find_regions(strip_comments(text)) if isinstance(r, RegionSpan)]
    for r in reversed(regions):
        text = text[: r.body_end] + "looper_region_end();\n" + text[r.body_end :]
        text = text[: r.body_start] + "looper_region_begin();\n" + text[r.body_start :]
    return text


def _renamed(text: str, old: str, new: str) -> str:
    """A function's text with the name in its header changed."""
    return re.sub(rf"\b{re.escape(old)}(?=\s*\()", new, text, count=1)


def _has_region(text: str) -> bool:
    return any(isinstance(r, RegionSpan) for r in find_regions(strip_comments(text)))


def _outside(text: str, functions: list[_Function]) -> str:
    """The text between function definitions (what a variant must leave as it is)."""
    parts, pos = [], 0
    for f in functions:
        parts.append(text[pos : f.start])
        pos = f.end
    return "\0".join([*parts, text[pos:]])


def compose(original: str, variants: Sequence[str]) -> Composed:
    """One C file holding the original program and every variant; see the module docstring."""
    functions, declarations = _scan(original)
    names = [f.name for f in functions]
    if "main" not in names:
        raise ComposeError("the program has no main() to run")
    if len(set(names)) != len(names):
        raise ComposeError("a function is defined twice")
    bodies = {f.name: original[f.start : f.end] for f in functions}
    rest = _outside(original, functions)
    copies = {name: [body] for name, body in bodies.items()}  # distinct versions of each function
    choices: list[dict[str, int]] = [{}]  # per library version: function -> its copy
    slots: list[int | None] = []
    errors: dict[int, str] = {}
    seen: dict[str, int] = {original: 0}
    for k, text in enumerate(variants):
        if text in seen:
            slots.append(seen[text])
            continue
        theirs, _ = _scan(text)
        if [f.name for f in theirs] != names or _outside(text, theirs) != rest:
            slots.append(None)
            errors[k] = "the variant differs from the program outside its functions"
            continue
        choice = {}
        for f in theirs:
            body = text[f.start : f.end]
            if body != bodies[f.name]:
                versions = copies[f.name]
                if body not in versions:
                    versions.append(body)
                choice[f.name] = versions.index(body)
        choices.append(choice)
        seen[text] = len(choices) - 1
        slots.append(len(choices) - 1)
    changed = [name for name in names if len(copies[name]) > 1]
    edits = [(f.start, f.end, _definitions(f.name, copies[f.name], _declared_before(f, declarations, original)))
             for f in functions]
    for name in changed:
        prototype = _declared_before(next(f for f in functions if f.name == name), declarations, original)
        if prototype is not None and name != "main":
            edits.append((prototype, prototype, f"\nstatic __typeof__({name}) *looper_ptr_{name};\n"
                                                f"#define {name} (*looper_ptr_{name})\n"))
    text = original
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + new + text[end:]
    return Composed(DECLARATIONS + text + _dispatch(changed, choices), len(choices), tuple(slots), errors)


def _declared_before(f: _Function, declarations: list[tuple[int, int]], text: str) -> int | None:
    """The end of the first top-level declaration of `f` before its definition (a prototype), if any."""
    for start, end in declarations:
        if end <= f.start and re.search(rf"\b{re.escape(f.name)}\s*\(", code_view(strip_comments(text[start:end]))):
            return end
    return None


def _definitions(name: str, versions: list[str], prototype: int | None) -> str:
    """The text that replaces a function's definition: itself, or one copy per version and a pointer."""
    if len(versions) == 1:
        body = _timed(versions[0])
        if name == "main":
            return _renamed(body, name, MAIN)
        return ("__attribute__((noinline)) " if _has_region(body) else "") + body
    out = [f"__attribute__((noinline)) {_renamed(_timed(v), name, f'{name}__looper{k}')}\n"
           for k, v in enumerate(versions)]
    if prototype is None or name == "main":
        out.append(f"static __typeof__({name}__looper0) *looper_ptr_{name};\n")
        if name != "main":
            out.append(f"#define {name} (*looper_ptr_{name})\n")
    return "".join(out)


def _dispatch(changed: list[str], choices: list[dict[str, int]]) -> str:
    """looper_select, looper_count and looper_run, appended to the program."""
    cases = []
    for v, choice in enumerate(choices):
        sets = " ".join(f"looper_ptr_{n} = {n}__looper{choice.get(n, 0)};" for n in changed)
        cases.append(f"  case {v}: {sets} break;\n")
    entry = "looper_ptr_main" if "main" in changed else MAIN
    return (
        "\n/* looper's measurement harness: which version of each changed function a variant runs. */\n"
        "static void looper_select(int variant)\n{\n  switch (variant) {\n" + "".join(cases)
        + "  default: break;\n  }\n}\n"
        f"__attribute__((visibility(\"default\"))) int looper_count(void) {{ return {len(choices)}; }}\n"
        "__attribute__((visibility(\"default\"))) double looper_run(int variant)\n{\n"
        "  char looper_arg0[] = \"looper\";\n  char *looper_argv[] = {looper_arg0, 0};\n"
        "  int looper_status;\n  looper_begin_run();\n  looper_select(variant);\n"
        "  if (setjmp(*looper_exit_point()) == 0)\n"
        f"    looper_status = ((int (*)(int, char **)){entry})(1, looper_argv);\n"
        "  else\n    looper_status = looper_exit_status();\n"
        "  return looper_end_run(looper_status);\n}\n"
    )
