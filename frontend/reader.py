"""Read a C file (or a string of C) into one Scop per `#pragma scop` region."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import islpy as isl

from frontend.declarations import INTEGER_TYPEDEFS, TYPE_KEYWORDS, Declaration, FileDeclarations, scan_file
from frontend.errors import FrontendError, FrontendWarning
from frontend.extract import RegionContext, extract
from frontend.macros import Expander, Macro, PPTok
from frontend.parse import parse_region
from frontend.policy import MacroPolicy
from frontend.preprocess import Preprocessor, Snapshot, code_view, strip_comments, unterminated_comment
from frontend.regions import RegionSpan, find_regions
from frontend.source import Source, SourceError, reading_view
from frontend.validity import region_tokens, syntax_error, too_large_constant
from looper.ir import Region, Scop

Defines = Mapping[str, str | int | None] | Iterable[str]

# Types every C file may use without this reader seeing their header, and PolyBench's element type.
_KNOWN_TYPES = INTEGER_TYPEDEFS | {"DATA_TYPE"}
_TYPE_WORDS = TYPE_KEYWORDS | {"const", "volatile"}
# isl's operation counter bounds the work on one region (a runaway `else` of `!=` conditions, say).
MAX_ISL_OPERATIONS = 1_000_000


@dataclass
class Reading:
    """What reading a file gives: one entry per region (its Scop, or why it is not one) and warnings."""

    entries: list[Scop | FrontendError]
    warnings: list[FrontendWarning] = field(default_factory=list)


def load(path_or_text: str | os.PathLike[str] | Source) -> Source:
    """A Source from a path (a PathLike, or a str naming a file) or from C text (a str with a newline or a pragma).

    A file is decoded as UTF-8 with its line ends untranslated (CR LF stays CR LF), so that offsets
    index its text exactly; FrontendError (malformed) if it cannot be read or decoded."""
    if isinstance(path_or_text, Source):
        return path_or_text
    if isinstance(path_or_text, str) and ("\n" in path_or_text or "\r" in path_or_text or "#pragma" in path_or_text):
        return Source(path_or_text, None)
    try:
        path = Path(path_or_text)
    except TypeError:
        raise FrontendError(f"expected a path or C text, not {type(path_or_text).__name__}") from None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FrontendError(f"cannot read the file: {exc.strerror or exc}", str(path), 1, 1, malformed=True) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _undecodable(data, exc, path) from None
    return Source(text, path)


def _undecodable(data: bytes, exc: UnicodeDecodeError, path: Path) -> FrontendError:
    """The error at the first byte that is not UTF-8: its line, and its column in characters."""
    before = Source(data[: exc.start].decode("utf-8"))  # valid: it precedes the first bad byte
    line, col = before.line_col(len(before.text))
    return FrontendError(
        f"the file is not valid UTF-8: byte 0x{data[exc.start]:02x} ({exc.reason}); looper reads C source as UTF-8",
        str(path),
        line,
        col,
        malformed=True,
    )


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
    return read_file(path_or_text, include_dirs=include_dirs, defines=defines).entries


def read_file(
    path_or_text: str | os.PathLike[str] | Source,
    *,
    include_dirs: Iterable[str | os.PathLike[str]] = (),
    defines: Defines = (),
) -> Reading:
    """Every region of a file, and the warnings met on the way (read_scops' entries, plus warnings).

    An entry that is a FrontendError with `malformed` set means the file is not C (or its scop
    markup is broken); without it, that region is C outside the affine subset. Raises FrontendError
    only when the file itself cannot be read or decoded."""
    source = load(path_or_text)
    reading = Reading([])
    try:
        reading.entries = _read(source, tuple(Path(d) for d in include_dirs), normalize_defines(defines), reading)
    except FrontendError as exc:
        reading.entries = [exc]
    except RecursionError:
        reading.entries = [FrontendError("the file nests too deeply to be read", source.name, 1, 1)]
    except Exception as exc:  # never let a surprise escape: the caller asked for FrontendErrors only
        reading.entries = [
            FrontendError(f"internal error while reading the file: {type(exc).__name__}: {exc}", source.name, 1, 1)
        ]
    return reading


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


def _read(
    source: Source, include_dirs: tuple[Path, ...], defines: dict, reading: Reading
) -> list[Scop | FrontendError]:
    view = reading_view(source.text)
    unclosed = unterminated_comment(view)
    if unclosed is not None:
        return [source.error("unterminated comment ('/*' without '*/')", unclosed, malformed=True)]
    stripped = strip_comments(view)
    found = find_regions(stripped)
    spans = [f for f in found if isinstance(f, RegionSpan)]
    pp = Preprocessor(include_dirs, defines)
    snaps = dict(zip((s.start for s in spans), pp.run(source, stripped, [s.start for s in spans]), strict=True))
    reading.warnings += pp.warnings
    code = code_view(stripped)
    decls: FileDeclarations | None = None
    out: list[Scop | FrontendError] = []
    for f in found:
        if isinstance(f, SourceError):  # broken markup: which code the user meant to mark is unknown
            out.append(source.error(f.message, f.offset, malformed=True))
            continue
        snap = snaps[f.start]
        if not snap.active:
            continue  # a region in code the preprocessor leaves out (`#if 0`)
        if snap.error is not None:
            out.append(snap.error)
            continue
        if decls is None:
            decls = scan_file(code, pp.macros)
        out.append(_read_region(source, stripped, code, f, snap, decls, pp.typedefs, reading.warnings))
    if pp.error is not None and pp.error.malformed and all(e is not pp.error for e in out):
        out.append(pp.error)  # a file that is not C is refused even where the error follows every region
    return out


def _read_region(
    source: Source,
    stripped: str,
    code: str,
    span: RegionSpan,
    snap: Snapshot,
    decls: FileDeclarations,
    typedefs: dict,
    warnings: list[FrontendWarning],
) -> Scop | FrontendError:
    """Parse and extract one region, with isl's work bounded (PolyBench needs well under 1% of the bound)."""
    ctx = isl.DEFAULT_CONTEXT
    previous = ctx.get_max_operations()
    ctx.reset_operations()
    ctx.set_max_operations(MAX_ISL_OPERATIONS)
    try:
        return _extract_region(source, stripped, code, span, snap, decls, typedefs, warnings)
    finally:
        ctx.reset_operations()
        ctx.set_max_operations(previous)


def _extract_region(
    source: Source,
    stripped: str,
    code: str,
    span: RegionSpan,
    snap: Snapshot,
    decls: FileDeclarations,
    typedefs: dict,
    warnings: list[FrontendWarning],
) -> Scop | FrontendError:
    """Parse and extract one region; every failure becomes a FrontendError at the best position known.

    Text that is not C is told from C outside the affine subset by frontend/validity.py: its lexical
    and bracket checks run on every region, its grammar of full C only when extraction has failed."""
    try:
        toks = region_tokens(code, span.body_start, span.body_end)
    except SourceError as exc:
        return source.error(exc.message, exc.offset, malformed=exc.malformed)
    if not toks:
        return source.error("the region has no statements to optimize", span.start)
    found: list[FrontendWarning] = []
    try:
        scop = _extract(source, stripped, span, snap, decls, typedefs, found)
    except (SourceError, FrontendError) as exc:
        bad = syntax_error(toks, span.body_end, snap.macros)
        if bad is not None:
            return source.error(bad.message, bad.offset, malformed=bad.malformed)
        return source.error(exc.message, exc.offset) if isinstance(exc, SourceError) else exc
    except RecursionError:
        return source.error("the region nests too deeply to be read", span.start)
    except Exception as exc:
        return source.error(f"internal error while reading this region: {type(exc).__name__}: {exc}", span.start)
    if not scop.statements:
        return source.error("the region has no statements to optimize", span.start)
    big = too_large_constant(toks)
    if big is not None:
        return source.error(big.message, big.offset)
    warnings += found
    return scop


def _extract(
    source: Source,
    stripped: str,
    span: RegionSpan,
    snap: Snapshot,
    decls: FileDeclarations,
    typedefs: dict,
    warnings: list[FrontendWarning],
) -> Scop:
    """Parse and extract one region (raises SourceError or FrontendError)."""
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
        warnings,
    )
    return extract(parsed, ctx)


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
