"""Schedule rows parsed into `Row`s, and the per-program cache of parsed rows, trip counts and transformed blocks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import islpy as isl
import numpy as np

from costmodel.features.layout import (
    ACCESS_BLOCK,
    ACCESS_COLS,
    ACCESS_HEADER,
    CONSTRAINT_COLS,
    COST_PER_ACCESS,
    MAX_ARRAY_DIMS,
    MAX_CONSTRAINTS,
    MAX_DEPTH,
    OFFSET,
    described,
)
from costmodel.features.program import (
    StatementInfo,
    _access_block,
    _aff_linear,
    _constraint_block,
    _fold_params,
    _int,
    program_features,
)
from looper.ir import Scop
from looper.schedule import Lowered, Schedule


# --- schedule rows ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One parsed schedule row of one statement."""

    loop: bool
    coeffs: tuple[float, ...]  # iterator coefficients (of the tiled expression for a tile loop)
    const: float  # constant, parameters folded
    tile: int = 0  # tile size when the row is floor(expr / tile)


def _parse_row(aff: isl.Aff, depth: int, values: dict[str, int]) -> Row:
    if aff.is_cst():
        return Row(False, (), _int(aff.get_constant_val()))
    if aff.dim(isl.dim_type.div) == 1 and not any(
        _int(aff.get_coefficient_val(isl.dim_type.in_, i)) for i in range(depth)
    ):
        inner = aff.get_div(0)
        size = _int(inner.get_denominator_val(), 1.0)
        coeffs, const = _aff_linear(inner, depth, values)
        return Row(True, tuple(x * size for x in coeffs), const * size, int(size))
    if aff.dim(isl.dim_type.div):
        # A row with other quasi-affine parts: keep the linear part, mark nothing else.
        coeffs, const = _aff_linear(aff, depth, values)
        return Row(True, tuple(coeffs), const)
    coeffs, const = _aff_linear(aff, depth, values)
    return Row(True, tuple(coeffs), const)


class _Program:
    """Per-Scop cache: the program features and memo tables for schedule-dependent parts."""

    def __init__(self, scop: Scop) -> None:
        self.scop = scop
        self.pf = program_features(scop)
        self.values = _fold_params(scop, scop.params)
        self.infos = {s.name: s for s in self.pf.statements}
        self.rows: dict[str, Row] = {}  # str(aff) -> parsed row
        self.constants: dict[int, Row] = {}
        self.transformed: dict[tuple, np.ndarray] = {}  # (stmt, point rows) -> vector with transformed blocks
        self.spans: dict[tuple, float] = {}  # (stmt, coefficients) -> extent of the row over the domain
        self.computations: dict[tuple, np.ndarray] = {}  # a statement's whole schedule state -> its vector
        self.structures: dict[tuple, tuple] = {}  # (all row texts, unimodular steps) -> tree and step matrices
        self.statement_rows: dict[tuple[str, str], tuple[list[Row], tuple[int | str, ...]]] = {}  # (stmt, rows text)
        # The original schedule's Sample, made by the Featurizer on first use (typed object: features.sample,
        # which defines Sample, imports this module).
        self.origin: object = None
        self.pf.original_outer_sharing = _outer_sharing(self.parse(Schedule(scop).lowered)[0])

    def parse(self, low: Lowered) -> tuple[dict[str, list[Row]], dict[str, tuple[int | str, ...]]]:
        """Parsed rows of every statement, and the rows' texts (a cheap identity of a statement's schedule;
        a constant row is its value)."""
        result: dict[str, list[Row]] = {}
        texts: dict[str, tuple[int | str, ...]] = {}
        if max(len(self.rows), len(self.transformed), len(self.computations), 4 * len(self.structures),
               len(self.statement_rows)) > 100_000:
            for table in (self.rows, self.transformed, self.computations, self.structures, self.statement_rows):
                table.clear()
        for info in self.pf.statements:
            name = info.name
            # A beam's schedules share most statements' rows: each distinct statement schedule is parsed once.
            key = (name, low.text(name))
            found = self.statement_rows.get(key)
            if found is None:
                found = self.statement_rows[key] = self._parse_statement(info, low)
            result[name], texts[name] = found
        return result, texts

    def _parse_statement(self, info: StatementInfo, low: Lowered) -> tuple[list[Row], tuple[int | str, ...]]:
        """One statement's parsed rows and their keys (a sequencing constant is its value, a loop its text)."""
        parsed: list[Row] = []
        keys: list[int | str] = []
        for aff, text, value in zip(low.rows[info.name], low.texts(info.name), low.constants(info.name), strict=True):
            if value is not None:
                row = self.constants.get(value)
                if row is None:
                    row = self.constants[value] = Row(False, (), float(value))
                parsed.append(row)
                keys.append(value)
                continue
            row = self.rows.get(text)
            if row is None:
                row = self.rows[text] = _parse_row(aff, info.depth, self.values)
            parsed.append(row)
            keys.append(text)
        return parsed, tuple(keys)

    def span(self, name: str, coeffs: tuple[float, ...]) -> float:
        key = (name, coeffs)
        value = self.spans.get(key)
        if value is None:
            info = self.infos[name]
            n = min(info.depth, len(coeffs))
            value = self.spans[key] = float(sum(abs(coeffs[k]) * (info.hi[k] - info.lo[k]) for k in range(n))) + 1.0
        return value

    def trip(self, name: str, rows: list[Row], d: int) -> tuple[bool, float]:
        """(is a point loop of a tile, estimated trip count) of the loop at dimension d of a statement."""
        row = rows[d]
        span = self.span(name, row.coeffs)
        if row.tile:
            return False, math.ceil(span / row.tile)
        for outer in rows[:d]:
            if outer.tile and outer.coeffs == row.coeffs:
                return True, min(span, float(outer.tile))
        return False, span

    def with_transformed(self, info: StatementInfo, points: tuple[Row, ...]) -> np.ndarray:
        """The static vector with the transformed domain, transformed accesses and transform matrix filled."""
        key = (info.name, points)
        v = self.transformed.get(key)
        if v is not None:
            return v
        v = info.static.copy()
        n = info.depth
        if n:
            tmat = np.array([r.coeffs[:n] for r in points], dtype=np.float64).reshape(len(points), n)
            tc = np.array([r.const for r in points], dtype=np.float64)
            if tmat.shape[0] == n and abs(np.linalg.det(tmat)) > 1e-9:
                tinv = np.linalg.inv(tmat)
            else:
                tinv = np.linalg.pinv(tmat)
            o = OFFSET["transformed_domain"]
            v[o : o + MAX_CONSTRAINTS * CONSTRAINT_COLS] = _constraint_block(
                info.dom_a @ tinv, info.dom_b - info.dom_a @ (tinv @ tc), info.dom_eq)
            o = OFFSET["accesses"]
            for k, (m, c) in enumerate(zip(info.access_m, info.access_c, strict=True)):
                base = o + k * ACCESS_BLOCK + ACCESS_HEADER + MAX_ARRAY_DIMS * ACCESS_COLS
                t = tinv[: m.shape[1]]
                v[base : base + MAX_ARRAY_DIMS * ACCESS_COLS] = _access_block(m @ t, c - m @ (t @ tc))
            _fill_strides(v, info, tinv, len(points))
            # T's described rows (point loops) and columns (iterators): the depth policy, FEATURES.md.
            rows, cols = described(tmat.shape[0], MAX_DEPTH), described(n, MAX_DEPTH)
            o = OFFSET["transform"]
            t = np.zeros((MAX_DEPTH, MAX_DEPTH))
            t[: len(rows), : len(cols)] = np.clip(tmat[np.ix_(rows, cols)], -8, 8)
            v[o : o + MAX_DEPTH * MAX_DEPTH] = t.ravel()
        self.transformed[key] = v
        return v


def _fill_strides(v: np.ndarray, info: StatementInfo, tinv: np.ndarray, n_points: int) -> None:
    """Per access, the bytes it moves per iteration of the innermost and the next-innermost point loop:
    what decides cache-line and vector use, given directly because the network would have to learn
    it from the transformed matrices and the array sizes of only a few hundred programs."""
    o = OFFSET["cost"]
    for k, (m, strides) in enumerate(zip(info.access_m, info.access_strides, strict=True)):
        base = o + k * COST_PER_ACCESS
        per_loop = np.abs(strides[: m.shape[0]] @ (m @ tinv[: m.shape[1]]))  # all zeros for a scalar
        inner = float(per_loop[n_points - 1]) if n_points else 0.0
        outer = float(per_loop[n_points - 2]) if n_points > 1 else 0.0
        v[base : base + COST_PER_ACCESS] = (np.log2(1 + inner), float(inner < 1e-9), np.log2(1 + outer))


def _outer_sharing(rows: dict[str, list[Row]]) -> dict[str, int]:
    """Per statement, how many statements share its outermost loop (itself included)."""
    def outer(rs: list[Row]) -> tuple | None:
        prefix: list[float] = []
        for r in rs:
            if r.loop:
                return tuple(prefix)
            prefix.append(r.const)
        return None

    keys = {s: outer(rs) for s, rs in rows.items()}
    return {s: (sum(1 for t in keys.values() if t == k) if k is not None else 1) for s, k in keys.items()}
