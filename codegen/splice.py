"""Put generated code back into the source file in place of its `#pragma scop` region."""

from __future__ import annotations

import re
from collections.abc import Sequence

from codegen.ast_c import HELPER_MACROS, Generated
from looper.ir import Scop

_FOR_DECL = r"for\s*\(\s*(?:const\s+)?(?:unsigned\s+|signed\s+)?(?:int|long|short|size_t|ptrdiff_t)\s+{}\b"
# A line and its end: LF, CR LF or a lone CR (str.splitlines would also split at form feeds and the like).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def region_code(source: str, scop: Scop, generated: Generated) -> str:
    """The new text of a region: its pragma lines kept, the generated loops between them.

    The new lines end as the `#pragma scop` line does (LF, CR LF or CR), so a CR LF file stays one."""
    region = scop.region
    assert region is not None, "a Scop read from a file knows its region"
    old = source[region.start : region.end]
    lines = _LINE.findall(old)
    first, last = lines[0], lines[-1]
    newline = first[len(first.rstrip("\r\n")) :] or "\n"
    body = "".join(lines[1:-1])
    indent = _indent_of(body)
    out: list[str] = []
    if generated.uses_helpers:
        out.append(HELPER_MACROS)
    block = bool(scop.locals)
    inner = indent + "  " if block else indent
    if block:
        out.append(f"{indent}{{\n")
        out += [f"{inner}{ctype} {name};\n" for name, ctype in scop.locals.items()]
    # Iterators declared outside the region are no longer used by the new loops; say so, so that
    # -Wall reports nothing the original did not.
    outside = sorted({it for s in scop.statements for it in s.iterators if not re.search(_FOR_DECL.format(it), old)})
    if outside:
        out.append(inner + " ".join(f"(void){it};" for it in outside) + "\n")
    out += [inner + line if line.strip() else line for line in generated.code.splitlines(keepends=True)]
    if block:
        out.append(f"{indent}}}\n")
    new = "".join(out)
    if newline != "\n":
        new = new.replace("\n", newline)
    return first + ("" if first.endswith(("\n", "\r")) else newline) + new + last


def splice(source: str, replacements: Sequence[tuple[Scop, str]]) -> str:
    """Replace each Scop's region in `source` by new text; everything else is kept byte for byte."""
    result = source
    regions = [(scop.region, text) for scop, text in replacements]
    for region, text in sorted(regions, key=lambda r: r[0].start if r[0] else 0, reverse=True):
        assert region is not None, "a Scop read from a file knows its region"
        result = result[: region.start] + text + result[region.end :]
    return result


def _indent_of(body: str) -> str:
    for line in _LINE.findall(body):
        if line.strip() and not line.lstrip().startswith("#"):
            return line[: len(line) - len(line.lstrip())]
    return "  "
