"""Read a C file (or a string of C) into one Scop per `#pragma scop` region."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import islpy as isl

from frontend.declarations import TYPE_KEYWORDS, Declaration, FileDeclarations, scan_file
from frontend.errors import FrontendError
from frontend.extract import RegionContext, extract
from frontend.macros import Expander, Macro, PPTok
from frontend.parse import parse_region
from frontend.policy import MacroPolicy
from frontend.preprocess import Preprocessor, Snapshot, code_view, strip_comments
from frontend.regions import RegionSpan, find_regions
from frontend.source import Source, SourceError
from looper.ir import Region, Scop

Defines = Mapping[str, str | int | None] | Iterable[str]

# Types every C file may use without this reader seeing their header, and PolyBench's element type.
_KNOWN_TYPES = frozenset(
    [
        "DATA_TYPE",
        "size_t",
        "ptrdiff_t",
        "int8_t",
        "int16_t",
        "int32_t",
        "int64_t",
        "uint8_t",
        "uint16_t",
        "uint32_t",
        "uint64_t",
        "intptr_t",
        "uintptr_t",
    ]
)
_TYPE_WORDS = TYPE_KEYWORDS | {"const", "volatile"}
# isl's operation counter bounds the work on one region (a runaway `else` of `!=` conditions, say).
MAX_ISL_OPERATIONS = 1_000_000


def load(path_or_text: str | os.PathLike[str]) -> Source:
    """A Source from a path (a PathLike, or a str naming a file) or from C text (a str with a newline or a pragma)."""
    if isinstance(path_or_text, str) and ("\n" in path_or_text or "#pragma" in path_or_text):
        return Source(path_or_text, None)
    try:
        path = Path(path_or_text)
    except TypeError:
        raise FrontendError(f"expected a path or C text, not {type(path_or_text).__name__}") from None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FrontendError(f"cannot read the file: {exc.strerror or exc}", str(path), 1, 1) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise FrontendError(f"the file is not valid UTF-8 ({exc.reason})", str(path), line, col) from None
    return Source(text, path)


def normalize_defines(defines: Defines) -> dict[str, str | int | None]:
    """`{"N": 100}` or `["N=100", "MINI_DATASET"]` -> {"N": 100, "MINI_DATASET": None}."""
    if isinstance(defines, Mapping):
        return dict(defines)
    out: dict[str, str | int | None] = {}
    for d in defines:
        name, eq, value = d.partition("=")
        out[name.strip()] = value if eq else None
    return out


def read_scops(
    path_or_text: str | os.PathLike[str],
    *,
    include_dirs: Iterable[str | os.PathLike[str]] = (),
    defines: Defines = (),
) -> list[Scop | FrontendError]:
    """One entry per region: its Scop, or the FrontendError saying why it is not one.

    Raises FrontendError only when the file itself cannot be read.
    """
    source = load(path_or_text)
    try:
        return _read(source, tuple(Path(d) for d in include_dirs), normalize_defines(defines))
    except FrontendError as exc:
        return [exc]
    except RecursionError:
        return [FrontendError("the file nests too deeply to be read", source.name, 1, 1)]
    except Exception as exc:  # never let a surprise escape: the caller asked for FrontendErrors only
        return [FrontendError(f"internal error while reading the file: {type(exc).__name__}: {exc}", source.name, 1, 1)]


def read_scop(
    path_or_text: str | os.PathLike[str],
    *,
    include_dirs: Iterable[str | os.PathLike[str]] = (),
    defines: Defines = (),
) -> Scop:
    """The Scop of the first region; raises FrontendError on the first error, or if there is no region."""
    entries = read_scops(path_or_text, include_dirs=include_dirs, defines=defines)
    for e in entries:
        if isinstance(e, FrontendError):
            raise e
    if not entries:
        name = path_or_text if not isinstance(path_or_text, str) or "\n" not in path_or_text else "<string>"
        raise FrontendError("no '#pragma scop' region found", str(name), 1, 1)
    return entries[0]  # type: ignore[return-value]


def _read(source: Source, include_dirs: tuple[Path, ...], defines: dict) -> list[Scop | FrontendError]:
    stripped = strip_comments(source.text)
    found = find_regions(stripped)
    spans = [f for f in found if isinstance(f, RegionSpan)]
    pp = Preprocessor(include_dirs, defines)
    snaps = dict(zip((s.start for s in spans), pp.run(source, stripped, [s.start for s in spans]), strict=True))
    decls: FileDeclarations | None = None
    out: list[Scop | FrontendError] = []
    for f in found:
        if isinstance(f, SourceError):
            out.append(source.error(f.message, f.offset))
            continue
        snap = snaps[f.start]
        if not snap.active:
            continue  # a region in code the preprocessor leaves out (`#if 0`)
        if snap.error is not None:
            out.append(snap.error)
            continue
        if decls is None:
            decls = scan_file(code_view(stripped), pp.macros)
        out.append(_read_region(source, stripped, f, snap, decls, pp.typedefs))
    return out


def _read_region(
    source: Source, stripped: str, span: RegionSpan, snap: Snapshot, decls: FileDeclarations, typedefs: dict
) -> Scop | FrontendError:
    """Parse and extract one region, with isl's work bounded (PolyBench needs well under 1% of the bound)."""
    ctx = isl.DEFAULT_CONTEXT
    previous = ctx.get_max_operations()
    ctx.reset_operations()
    ctx.set_max_operations(MAX_ISL_OPERATIONS)
    try:
        return _extract_region(source, stripped, span, snap, decls, typedefs)
    finally:
        ctx.reset_operations()
        ctx.set_max_operations(previous)


def _extract_region(
    source: Source, stripped: str, span: RegionSpan, snap: Snapshot, decls: FileDeclarations, typedefs: dict
) -> Scop | FrontendError:
    """Parse and extract one region; every failure becomes a FrontendError at the best position known."""
    try:
        function = decls.function_at(span.start)
        region = Region(
            source.path, span.start, span.end, source.line_col(span.start)[0], function.name if function else None
        )
        is_type = _type_test(snap.macros, typedefs)
        parsed = parse_region(stripped, span.body_start, span.body_end, is_type)
        local_decls = decls.locals_of(function, (span.start, span.end), snap.macros) if function else {}
        params = function.params if function else {}

        def lookup(name: str) -> Declaration | None:
            return local_decls.get(name) or params.get(name) or decls.globals.get(name)

        ctx = RegionContext(
            source,
            region,
            snap.macros,
            MacroPolicy(snap.macros, is_type),
            lookup,
            _type_resolver(snap.macros, typedefs),
        )
        return extract(parsed, ctx)
    except SourceError as exc:
        return source.error(exc.message, exc.offset)
    except FrontendError as exc:
        return exc
    except RecursionError:
        return source.error("the region nests too deeply to be read", span.start)
    except Exception as exc:
        return source.error(f"internal error while reading this region: {type(exc).__name__}: {exc}", span.start)


def _type_test(macros: dict[str, Macro], typedefs: dict[str, str]):
    """Whether an identifier names a type (for casts and declarations inside the region)."""
    resolve = _type_resolver(macros, typedefs)

    @cache
    def is_type(name: str) -> bool:
        if name in typedefs or name in _KNOWN_TYPES:
            return True
        m = macros.get(name)
        return m is not None and not m.is_function and resolve(name) is not None

    return is_type


def _type_resolver(macros: dict[str, Macro], typedefs: dict[str, str]):
    """A C type as written -> C keywords (`DATA_TYPE` -> `double`), or None when it cannot be resolved."""

    @cache
    def resolve(text: str, depth: int = 0) -> str | None:
        if depth > 20:
            return None
        words: list[str] = []
        for w in text.split():
            if w in _TYPE_WORDS or w == "*":
                words.append(w)
            elif w in typedefs:
                r = resolve(typedefs[w], depth + 1)
                if r is None:
                    return None
                words.append(r)
            elif w in macros and not macros[w].is_function:
                try:
                    toks = Expander(macros).expand([PPTok("ident", w, 0)])
                except SourceError:
                    return None
                if not toks:
                    return None
                r = resolve(" ".join(t.text for t in toks), depth + 1)
                if r is None:
                    return None
                words.append(r)
            else:
                return None
        return " ".join(words) or None

    return resolve
