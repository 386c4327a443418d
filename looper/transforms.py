"""The transformation vocabulary: small, immutable, JSON-serializable values.

A loop is named by a statement it encloses and its depth among that statement's loops
(0 = outermost), in the loop structure at the point of the sequence where the transformation
is applied. A transformation on a loop acts on every statement that loop encloses.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

TILE_SIZES = (8, 16, 32, 64, 128)
UNROLL_FACTORS = (2, 4, 8, 16)


def _lists(value: Any) -> Any:
    """(Nested) tuples as JSON lists."""
    return [_lists(v) for v in value] if isinstance(value, tuple) else value


@dataclass(frozen=True)
class Transformation:
    """Base class; `kind` is the JSON tag."""

    kind: ClassVar[str] = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with a `kind` tag."""
        data = {"kind": self.kind}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            data[f.name] = _lists(value)
        return data

    def __str__(self) -> str:
        args = ", ".join(str(getattr(self, f.name)) for f in dataclasses.fields(self))
        return f"{self.kind}({args})"


@dataclass(frozen=True)
class Reschedule(Transformation):
    """Replace the whole schedule by given per-statement 2d+1 affine maps (isl strings), e.g. the
    isl scheduler's result; later transformations act on it like on the original schedule."""

    kind: ClassVar[str] = "reschedule"
    maps: tuple[tuple[str, str], ...]  # (statement, isl map) pairs

    def __str__(self) -> str:
        return "reschedule(" + "; ".join(m for _, m in self.maps) + ")"


@dataclass(frozen=True)
class Fuse(Transformation):
    """Fuse the loop at `depth` around `other` into the sibling loop at `depth` around `stmt`,
    shifting the fused iterations by `shift` (loop shifting that makes a fusion legal)."""

    kind: ClassVar[str] = "fuse"
    stmt: str
    other: str
    depth: int
    shift: int = 0


@dataclass(frozen=True)
class Distribute(Transformation):
    """Fission: split the loop at `depth` around `stmt` in two, `stmt`'s part of the body and
    everything after it going into a second loop right after the first; with `first`, `stmt`'s
    part alone goes into a loop right before the rest's (a statement run at one point of a shared
    inner loop, trisolv's division, leaves that loop free of the dependences it brought)."""

    kind: ClassVar[str] = "distribute"
    stmt: str
    depth: int
    first: bool = False

    def __str__(self) -> str:
        return f"distribute({self.stmt}, {self.depth}{', first' if self.first else ''})"


@dataclass(frozen=True)
class Interchange(Transformation):
    """Swap the loops at depths `first` and `second` of the perfect nest around `stmt`."""

    kind: ClassVar[str] = "interchange"
    stmt: str
    first: int
    second: int


@dataclass(frozen=True)
class Reverse(Transformation):
    """Run the loop at `depth` around `stmt` backwards."""

    kind: ClassVar[str] = "reverse"
    stmt: str
    depth: int


@dataclass(frozen=True)
class Skew(Transformation):
    """Skew the loop at `inner` by `factor` times the loop at `outer` (inner' = inner + factor*outer)."""

    kind: ClassVar[str] = "skew"
    stmt: str
    outer: int
    inner: int
    factor: int = 1


@dataclass(frozen=True)
class Shift(Transformation):
    """Shift the loop at `depth` around `stmt` (only the statements of `stmt`'s innermost loop
    body at that depth) by a constant `amount`."""

    kind: ClassVar[str] = "shift"
    stmt: str
    depth: int
    amount: int


@dataclass(frozen=True)
class Tile(Transformation):
    """Rectangular tiling of the perfect band of len(sizes) loops starting at `depth` around `stmt`;
    `order` is the intra-tile (point) loop order as a permutation of the band (default: unchanged)."""

    kind: ClassVar[str] = "tile"
    stmt: str
    depth: int
    sizes: tuple[int, ...]
    order: tuple[int, ...] = ()


@dataclass(frozen=True)
class Parallelize(Transformation):
    """Run the loop at `depth` (one of the outermost three) around `stmt` as an OpenMP parallel for."""

    kind: ClassVar[str] = "parallelize"
    stmt: str
    depth: int


@dataclass(frozen=True)
class Vectorize(Transformation):
    """Mark the innermost loop around `stmt` `#pragma omp simd` (it must carry no dependence)."""

    kind: ClassVar[str] = "vectorize"
    stmt: str
    depth: int


@dataclass(frozen=True)
class Unroll(Transformation):
    """Unroll the innermost loop around `stmt` by `factor`."""

    kind: ClassVar[str] = "unroll"
    stmt: str
    depth: int
    factor: int


KINDS: dict[str, type[Transformation]] = {
    cls.kind: cls
    for cls in (Reschedule, Fuse, Distribute, Interchange, Reverse, Skew, Shift, Tile, Parallelize, Vectorize, Unroll)
}
UNIMODULAR = (Interchange, Reverse, Skew)


def _tuples(value: Any) -> Any:
    """JSON lists back to (nested) tuples."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def from_json(data: dict[str, Any]) -> Transformation:
    """Rebuild a transformation from `to_json()` output; ValueError on anything else."""
    try:
        cls = KINDS[data["kind"]]
        fields = {f.name for f in dataclasses.fields(cls)}
        args = {k: _tuples(v) for k, v in data.items() if k != "kind"}
        unknown = set(args) - fields
        if unknown:
            raise ValueError(f"unknown field(s) {sorted(unknown)}")
        return cls(**args)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a transformation: {data!r} ({exc})") from None
