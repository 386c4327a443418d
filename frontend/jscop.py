"""Polly's JSCoP JSON format: a Scop as isl strings, one JSON document per region."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from frontend.errors import FrontendError
from frontend.reader import Defines, read_scops
from looper.ir import Scop


def to_jscop(scop: Scop) -> dict:
    """The Scop in JSCoP form: name, context, arrays, statements (domain, schedule, accesses)."""
    region = scop.region
    out: dict = {"name": scop.name}
    if region is not None:
        out["location"] = f"{region.path or '<string>'}:{region.line}"
    out["context"] = str(scop.context)
    out["arrays"] = [
        {"name": a.name, "type": a.resolved_type or a.element_type, "sizes": list(a.sizes)}
        for a in scop.arrays.values()
    ]
    out["statements"] = [
        {
            "name": s.name,
            "domain": str(s.domain),
            "schedule": str(s.schedule),
            "accesses": [{"kind": "write" if a.is_write else "read", "relation": str(a.relation)} for a in s.accesses],
        }
        for s in scop.statements
    ]
    return out


def dump_scops(
    path: str | os.PathLike[str], include_dirs: Iterable[str | os.PathLike[str]] = (), defines: Defines = ()
) -> str:
    """One JSCoP JSON document per region of a file, separated by blank lines; a bad region gives {"error": ...}."""
    return dump_entries(read_scops(path, include_dirs=include_dirs, defines=defines))


def dump_entries(entries: Iterable[Scop | FrontendError]) -> str:
    """JSCoP JSON documents for regions already read (as dump_scops prints them)."""
    docs = []
    for entry in entries:
        if isinstance(entry, FrontendError):
            docs.append({"error": str(entry), "line": entry.line, "column": entry.column})
        else:
            docs.append(to_jscop(entry))
    return "\n\n".join(json.dumps(d, indent=2) for d in docs) + ("\n" if docs else "")
