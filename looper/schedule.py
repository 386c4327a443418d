"""A Schedule is a Scop plus an ordered sequence of transformations; it lowers to isl.

Lowering keeps one row per schedule dimension and statement (an `isl.Aff` on the statement's
domain), in the 2d+1 layout `[b0, L1, b1, L2, b2, ...]`: even dimensions are constants that
order siblings, odd dimensions are loops (or constant padding for shallower statements).
Every transformation is an operation on those rows, so the result is always an exact isl
schedule that the legality check and the AST generator consume directly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import islpy as isl

from looper import transforms as T
from looper.errors import LooperError
from looper.ir import Scop, union_of_maps


class ScheduleError(LooperError, ValueError):
    """A transformation that does not apply to the loop structure it is given."""


Key = tuple[str, int]  # (statement name, schedule dimension)

# Facts about a row (its printed text, its value if constant), memoized by object: a schedule
# shares every row its step leaves alone with the schedule it derives from, and a dictionary
# lookup costs far less than the isl calls. Each entry holds its row, so an id stays unique while
# it is a key; the table is emptied when it grows large (only the memo is lost).
_FACTS: dict[int, tuple[isl.Aff, str, int | None]] = {}
_FACTS_LIMIT = 1 << 18


# The rows tiling made, each with the row it tiles and the tile size: `floor(a / s) > floor(b / s)`
# implies `a > b`, which legality uses to answer for many tile sizes at once (looper.depwalk).
_TILES: dict[int, tuple[isl.Aff, isl.Aff, int]] = {}


def tile_source(aff: isl.Aff) -> tuple[isl.Aff, int] | None:
    """The row `a` and size `s` if `aff` is the tile row `floor(a / s)` made by tiling, else None."""
    entry = _TILES.get(id(aff))
    return None if entry is None else (entry[1], entry[2])


# Rows made from rows (a tile row, a constant row on a row's domain), by the row's id (held, so the
# id stays unique) and the number: candidates of one level make the same rows from the same parents,
# and a shared row object is printed once (row_facts).
_DERIVED: dict[tuple[str, int, int], tuple[isl.Aff, isl.Aff]] = {}


def _derived(kind: str, row: isl.Aff, number: int) -> isl.Aff | None:
    entry = _DERIVED.get((kind, id(row), number))
    return None if entry is None else entry[1]


def _remember(kind: str, row: isl.Aff, number: int, made: isl.Aff) -> isl.Aff:
    if len(_DERIVED) >= _FACTS_LIMIT:
        _DERIVED.clear()
    _DERIVED[(kind, id(row), number)] = (row, made)
    return made


def _tile_row(row: isl.Aff, size: int) -> isl.Aff:
    """The tile loop's row `floor(row / size)`, remembered with its source."""
    tile = _derived("tile", row, size)
    if tile is None:
        tile = _remember("tile", row, size, row.scale_down_val(_val(row.get_ctx(), size)).floor())
    if len(_TILES) >= _FACTS_LIMIT:
        _TILES.clear()
    _TILES[id(tile)] = (tile, row, size)
    return tile


def row_facts(aff: isl.Aff) -> tuple[str, int | None]:
    """The row's isl text (equal texts: equal functions) and its value if it is a constant."""
    entry = _FACTS.get(id(aff))
    if entry is None:
        if len(_FACTS) >= _FACTS_LIMIT:
            _FACTS.clear()
        entry = (aff, str(aff), aff.get_constant_val().to_python() if aff.is_cst() else None)
        _FACTS[id(aff)] = entry
    return entry[1], entry[2]


@dataclass
class Lowered:
    """Per-statement schedule rows and the loop marks (by statement and dimension)."""

    rows: dict[str, list[isl.Aff]]
    parallel: set[Key] = field(default_factory=set)
    vector: set[Key] = field(default_factory=set)
    unroll: dict[Key, int] = field(default_factory=dict)
    tiled: set[str] = field(default_factory=set)  # statements inside a tiled band
    # What the rows say about the loop structure, computed when first asked: the search asks the same
    # questions of one schedule many times. Only `apply` changes rows, and at its end it keeps only
    # what concerns statements whose rows it left alone (`_facts`, by statement; `_memo` spans them).
    _facts: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)
    _memo: dict[tuple, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_dims(self) -> int:
        return len(next(iter(self.rows.values()))) if self.rows else 0

    def copy(self) -> Lowered:
        return Lowered({s: list(r) for s, r in self.rows.items()}, set(self.parallel), set(self.vector),
                       dict(self.unroll), set(self.tiled))

    def forget(self, before: Lowered) -> None:
        """Keep, of what was derived from the rows of `before` (copied with them), only what concerns
        statements whose rows are still the same objects: the rest changed."""
        old = before.rows
        self._facts = {s: facts for s, facts in self._facts.items()
                       if len(self.rows[s]) == len(old.get(s, ()))
                       and all(a is b for a, b in zip(self.rows[s], old[s], strict=True))}
        self._memo = {}

    def _of(self, stmt: str) -> dict[str, Any]:
        """The facts of one statement's rows, computed once: texts, constants (None for a loop)."""
        facts = self._facts.get(stmt)
        if facts is None:
            pairs = [row_facts(r) for r in self.rows[stmt]]
            facts = self._facts[stmt] = {"texts": tuple(t for t, _ in pairs), "consts": tuple(c for _, c in pairs)}
        return facts

    # --- loop structure -------------------------------------------------------------------
    def texts(self, stmt: str) -> tuple[str, ...]:
        """The isl texts of the statement's rows (equal texts: equal rows)."""
        return self._of(stmt)["texts"]

    def constants(self, stmt: str) -> tuple[int | None, ...]:
        """Per row of the statement, its value if it is a constant, else None (a loop)."""
        return self._of(stmt)["consts"]

    def text(self, stmt: str) -> str:
        """The statement's rows as one text (a string keeps its hash: a cheap dictionary key)."""
        facts = self._of(stmt)
        found = facts.get("text")
        if found is None:
            found = facts["text"] = "\n".join(facts["texts"])
        return found

    def printed(self, stmt: str) -> str:
        """`S1:['{ S1[i] -> [(0)] }', ...]`: the statement's part of the schedule's fingerprint."""
        facts = self._of(stmt)
        found = facts.get("printed")
        if found is None:
            found = facts["printed"] = f"{stmt}:{list(facts['texts'])}"
        return found

    def rows_key(self) -> tuple[str, ...]:
        """Every statement's rows as text: equal keys, equal rows."""
        found = self._memo.get(("rows",))
        if found is None:
            found = self._memo[("rows",)] = tuple(self.text(s) for s in self.rows)
        return found

    def is_loop(self, stmt: str, dim: int) -> bool:
        """Whether dimension `dim` is a loop (not a constant) for `stmt`."""
        return self.constants(stmt)[dim] is None

    def constant(self, stmt: str, dim: int) -> int:
        """The value of a constant (sequencing) dimension."""
        value = self.constants(stmt)[dim]
        return value if value is not None else self.rows[stmt][dim].get_constant_val().to_python()

    def loop_dims(self, stmt: str) -> list[int]:
        """The loop dimensions of `stmt`, outermost first."""
        facts = self._of(stmt)
        found = facts.get("loops")
        if found is None:
            found = facts["loops"] = tuple(d for d, c in enumerate(facts["consts"]) if c is None)
        return list(found)

    def loop_dim(self, stmt: str, depth: int) -> int:
        """The schedule dimension of the loop at `depth` around `stmt`."""
        if stmt not in self.rows:
            raise ScheduleError(f"no statement {stmt}")
        dims = self.loop_dims(stmt)
        if not 0 <= depth < len(dims):
            raise ScheduleError(f"{stmt} has no loop at depth {depth} (it has {len(dims)})")
        return dims[depth]

    def signature(self, stmt: str, upto: int) -> tuple:
        """What identifies the loops around `stmt` at dimensions 0..upto-1."""
        facts = self._of(stmt)
        found = facts.get("pattern")
        if found is None:
            found = facts["pattern"] = tuple("L" if c is None else c for c in facts["consts"])
        return found[:max(upto, 0)]

    def members(self, stmt: str, dim: int) -> list[str]:
        """The statements sharing `stmt`'s loop (or sequence position) at `dim`, in row order."""
        groups = self._memo.get(("members", dim))
        if groups is None:  # every statement's group at once: the search asks for most of them
            groups = self._memo[("members", dim)] = {}
            for s in self.rows:
                groups.setdefault(self.signature(s, dim + 1), []).append(s)
        return list(groups[self.signature(stmt, dim + 1)])

    def depth_of(self, stmt: str, dim: int) -> int:
        """How many loops of `stmt` lie strictly before `dim`."""
        return sum(1 for d in range(dim) if self.is_loop(stmt, d))

    def map_of(self, stmt: str, domain: isl.Set) -> isl.Map:
        """The schedule of one statement as an isl map on its domain."""
        rows = self.rows[stmt]
        ctx = domain.get_ctx()
        lst = isl.AffList.alloc(ctx, len(rows))
        for r in rows:
            lst = lst.add(r)
        space = domain.get_space().from_domain().add_dims(isl.dim_type.out, len(rows))
        return isl.Map.from_multi_aff(isl.MultiAff.from_aff_list(space, lst)).intersect_domain(domain)


@dataclass(frozen=True)
class Schedule:
    """A Scop and the transformations applied to it, in order."""

    scop: Scop
    steps: tuple[T.Transformation, ...] = ()

    def then(self, *steps: T.Transformation) -> Schedule:
        """This schedule followed by more transformations."""
        child = Schedule(self.scop, self.steps + tuple(steps))
        low = self.__dict__.get("lowered")
        if low is not None:  # the child lowers from here: `apply` never changes the rows it is given
            child.__dict__["_lowered_prefix"] = (low, len(self.steps))
        return child

    @cached_property
    def lowered(self) -> Lowered:
        """Rows and marks after every step; raises ScheduleError if a step does not apply."""
        low, done = self.__dict__.pop("_lowered_prefix", (None, 0))
        if low is None:
            low = initial_rows(self.scop)
        for step in self.steps[done:]:
            low = apply(low, step)
        return low

    @cached_property
    def statement_maps(self) -> dict[str, isl.Map]:
        """Each statement's schedule as an isl map on its domain (statement instance -> time)."""
        low = self.lowered
        return {s.name: low.map_of(s.name, s.domain) for s in self.scop.statements}

    def precedes(self) -> isl.UnionMap:
        """The execution order: every pair of statement instances (x, y) with x run before y."""
        return self.union_map.lex_lt_union_map(self.union_map)

    @cached_property
    def union_map(self) -> isl.UnionMap:
        """The whole schedule as one isl union map (statement instance -> time)."""
        return union_of_maps(list(self.statement_maps.values()))

    def fingerprint(self) -> str:
        """A canonical hash of the resulting schedule: equal for transformation sequences with equal effect."""
        found = self.__dict__.get("_fingerprint")
        if found is None:
            low = self.lowered
            parts = [low.printed(s) for s in sorted(low.rows)]
            parts += [f"P{sorted(low.parallel)}", f"V{sorted(low.vector)}", f"U{sorted(low.unroll.items())}"]
            found = self.__dict__["_fingerprint"] = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
        return found

    def to_json(self) -> dict[str, Any]:
        """The transformation sequence as JSON (the Scop is identified by its name and statements)."""
        return {
            "scop": self.scop.name,
            "statements": [s.name for s in self.scop.statements],
            "steps": [t.to_json() for t in self.steps],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2)

    @staticmethod
    def from_json(scop: Scop, data: dict[str, Any]) -> Schedule:
        """Rebuild a schedule of `scop` from `to_json()` output."""
        if not isinstance(data, dict) or "steps" not in data:
            raise ValueError("a schedule JSON object needs a 'steps' list")
        return Schedule(scop, tuple(T.from_json(t) for t in data["steps"]))

    def describe(self) -> list[str]:
        """Per statement, the schedule as Pluto prints it: `T(S1): (0, i, 1, k, 0, j, 0)`."""
        return [
            f"T({name}): ({', '.join(_aff_text(r) for r in rows)})" for name, rows in self.lowered.rows.items()
        ]

    def __str__(self) -> str:
        return " ; ".join(str(t) for t in self.steps) or "identity"


def _aff_text(aff: isl.Aff) -> str:
    """The expression of a printed one-dimensional affine function: `floor((j)/32)`."""
    text = str(aff)
    start, end = text.rfind("[("), text.rfind(")]")
    return text[start + 2 : end] if start >= 0 and end > start else text


def initial_rows(scop: Scop) -> Lowered:
    """Rows of the original (2d+1) schedule of every statement."""
    return Lowered(_rows_of({s.name: s.schedule for s in scop.statements}))


def _rows_of(maps: dict[str, isl.Map]) -> dict[str, list[isl.Aff]]:
    """Per-statement rows of single-piece affine schedule maps of equal dimension."""
    rows: dict[str, list[isl.Aff]] = {}
    for name, m in maps.items():
        pma = isl.PwMultiAff.from_map(m)
        if pma.n_piece() != 1:
            raise ScheduleError(f"{name}: the schedule is not a single affine function")
        ma = pma.as_multi_aff()
        rows[name] = [ma.get_at(i) for i in range(ma.dim(isl.dim_type.out))]
    if len({len(r) for r in rows.values()}) > 1:
        raise ScheduleError("the statements' schedules differ in dimension")
    return rows


def _val(ctx: isl.Context, v: int) -> isl.Val:
    return isl.Val.int_from_si(ctx, v)


def _set_constant(aff: isl.Aff, value: int) -> isl.Aff:
    """A constant row with the same domain as `aff`."""
    made = _derived("constant", aff, value)
    if made is None:
        made = isl.Aff.zero_on_domain(aff.get_domain_local_space()).set_constant_val(_val(aff.get_ctx(), value))
        made = _remember("constant", aff, value, made)
    return made


def _perfect_band(low: Lowered, stmt: str, depth: int, count: int) -> tuple[list[int], list[str]]:
    """Dimensions of `count` perfectly nested loops from `depth` around `stmt`, and their statements."""
    dims = [low.loop_dim(stmt, depth + k) for k in range(count)]
    members = low.members(stmt, dims[0])
    for d in dims[1:]:
        inner = low.members(stmt, d)
        if inner != members:
            raise ScheduleError(
                f"the loops at depths {depth}..{depth + count - 1} around {stmt} are not perfectly nested "
                f"({', '.join(members)} vs {', '.join(inner)})"
            )
    return dims, members


def apply(low: Lowered, t: T.Transformation) -> Lowered:
    """Apply one transformation to lowered rows, returning new rows."""
    copy = low.copy()
    copy._facts, copy._memo = dict(low._facts), dict(low._memo)  # same rows, same answers (until changed)
    result = _apply(copy, t)
    result.forget(low)  # `_apply` asks about the structure only before it changes any row
    return result


def _apply(low: Lowered, t: T.Transformation) -> Lowered:
    """Apply one transformation to a copy of lowered rows, in place."""
    rows = low.rows
    if isinstance(t, T.Reschedule):
        if set(dict(t.maps)) != set(rows):
            raise ScheduleError("a reschedule must give a map for every statement")
        try:
            fresh = _rows_of({name: isl.Map(text, context=rows[name][0].get_ctx()) for name, text in t.maps})
        except isl.Error as exc:
            raise ScheduleError(f"unreadable schedule map: {exc}") from None
        return Lowered(fresh)
    if isinstance(t, T.Interchange):
        lo, hi = sorted((t.first, t.second))
        if lo == hi:
            raise ScheduleError("interchange of a loop with itself")
        dims, members = _perfect_band(low, t.stmt, lo, hi - lo + 1)
        for s in members:
            rows[s][dims[0]], rows[s][dims[-1]] = rows[s][dims[-1]], rows[s][dims[0]]
    elif isinstance(t, T.Reverse):
        d = low.loop_dim(t.stmt, t.depth)
        for s in low.members(t.stmt, d):
            rows[s][d] = rows[s][d].neg()
    elif isinstance(t, T.Skew):
        if not t.outer < t.inner or t.factor == 0:
            raise ScheduleError("skew needs outer < inner and a non-zero factor")
        dims, members = _perfect_band(low, t.stmt, t.outer, t.inner - t.outer + 1)
        for s in members:
            r = rows[s]
            r[dims[-1]] = r[dims[-1]].add(r[dims[0]].scale_val(_val(r[0].get_ctx(), t.factor)))
    elif isinstance(t, T.Shift):
        d = low.loop_dim(t.stmt, t.depth)
        for s in low.members(t.stmt, d + 1):
            rows[s][d] = rows[s][d].add_constant_val(_val(rows[s][d].get_ctx(), t.amount))
    elif isinstance(t, T.Fuse):
        _fuse(low, t)
    elif isinstance(t, T.Distribute):
        _distribute(low, t)
    elif isinstance(t, T.Tile):
        _tile(low, t)
    elif isinstance(t, T.Parallelize):
        if t.depth >= 3:
            raise ScheduleError("only the outermost three loops are parallelized")
        d = low.loop_dim(t.stmt, t.depth)
        low.parallel |= {(s, d) for s in low.members(t.stmt, d)}
    elif isinstance(t, T.Vectorize | T.Unroll):
        d = low.loop_dim(t.stmt, t.depth)
        members = low.members(t.stmt, d)
        if any(low.is_loop(s, e) for s in members for e in range(d + 1, low.n_dims)):
            raise ScheduleError(f"the loop at depth {t.depth} around {t.stmt} is not innermost")
        if isinstance(t, T.Vectorize):
            low.vector |= {(s, d) for s in members}
        else:
            if t.factor not in T.UNROLL_FACTORS:
                raise ScheduleError(f"unroll factor {t.factor} not in {T.UNROLL_FACTORS}")
            low.unroll.update({(s, d): t.factor for s in members})
    else:
        raise ScheduleError(f"unknown transformation {t!r}")
    return low


def _fuse(low: Lowered, t: T.Fuse) -> None:
    rows = low.rows
    d = low.loop_dim(t.stmt, t.depth)
    if low.loop_dim(t.other, t.depth) != d:
        raise ScheduleError(f"the loops at depth {t.depth} around {t.stmt} and {t.other} are not siblings")
    first, second = low.members(t.stmt, d), low.members(t.other, d)
    if set(first) & set(second):
        raise ScheduleError(f"{t.stmt} and {t.other} already share the loop at depth {t.depth}")
    if low.signature(t.stmt, d - 1) != low.signature(t.other, d - 1):
        raise ScheduleError(f"the loops at depth {t.depth} around {t.stmt} and {t.other} are not siblings")
    b1, b2 = low.constant(t.stmt, d - 1), low.constant(t.other, d - 1)
    parent = low.signature(t.stmt, d - 1)
    between = {low.constant(s, d - 1) for s in rows if low.signature(s, d - 1) == parent} - {b1, b2}
    if b2 < b1 or any(b1 < b < b2 for b in between):
        raise ScheduleError(f"the loop around {t.other} does not directly follow the loop around {t.stmt}")
    offset = max(low.constant(s, d + 1) for s in first) + 1 - min(low.constant(s, d + 1) for s in second)
    for s in second:
        r = rows[s]
        ctx = r[0].get_ctx()
        r[d - 1] = _set_constant(r[d - 1], b1)
        r[d + 1] = r[d + 1].add_constant_val(_val(ctx, offset))
        if t.shift:
            r[d] = r[d].add_constant_val(_val(ctx, t.shift))


def _distribute(low: Lowered, t: T.Distribute) -> None:
    rows = low.rows
    d = low.loop_dim(t.stmt, t.depth)
    members = low.members(t.stmt, d)
    if t.first:  # stmt's part stays, the others (one loop, their body order kept) move after it
        part = [s for s in members if low.signature(s, d + 2) == low.signature(t.stmt, d + 2)]
        moved = [s for s in members if s not in part]
        if not moved:
            raise ScheduleError(f"{t.stmt} is alone in the loop at depth {t.depth}: nothing to distribute")
    else:
        pivot = low.constant(t.stmt, d + 1)
        moved = [s for s in members if low.constant(s, d + 1) >= pivot]
        if len(moved) == len(members):
            raise ScheduleError(f"{t.stmt} is first in the loop at depth {t.depth}: nothing to distribute")
    here = low.constant(t.stmt, d - 1)
    parent = low.signature(t.stmt, d - 1)
    later = [s for s in rows if low.signature(s, d - 1) == parent and low.constant(s, d - 1) > here]
    for s in later + moved:
        rows[s][d - 1] = rows[s][d - 1].add_constant_val(_val(rows[s][0].get_ctx(), 1))


def _tile(low: Lowered, t: T.Tile) -> None:
    n = len(t.sizes)
    if not 1 <= n <= 3 or any(size not in T.TILE_SIZES for size in t.sizes):
        raise ScheduleError(f"tile sizes {t.sizes}: 1 to 3 sizes from {T.TILE_SIZES}")
    order = t.order or tuple(range(n))
    if sorted(order) != list(range(n)):
        raise ScheduleError(f"tile order {order} is not a permutation of the band")
    dims, members = _perfect_band(low, t.stmt, t.depth, n)
    low.tiled |= set(members)
    first = dims[0]
    rows = low.rows
    for s in rows:
        r = rows[s]
        if s not in members:
            zero = _set_constant(r[0], 0)
            r.extend([zero] * (2 * n))
            continue
        band = [r[d] for d in dims]
        tiles: list[isl.Aff] = []
        for k in range(n):
            tiles += [_tile_row(band[k], t.sizes[k]), _set_constant(r[0], 0)]
        new = r[:first] + tiles + r[first:]
        for k in range(n):
            new[dims[k] + 2 * n] = band[order[k]]
        rows[s] = new

    def moved(key: Key, tile_loop: bool) -> Key:
        s, d = key
        if s not in members or d < first:
            return key
        if d in dims:
            k = dims.index(d)
            return (s, first + 2 * k) if tile_loop else (s, dims[order.index(k)] + 2 * n)
        return (s, d + 2 * n)

    low.parallel = {moved(k, True) for k in low.parallel}
    low.vector = {moved(k, False) for k in low.vector}
    low.unroll = {moved(k, False): f for k, f in low.unroll.items()}
