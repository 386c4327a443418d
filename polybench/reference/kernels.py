"""NumPy references for linear-algebra/kernels."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from polybench.reference.grid import grid


def mm2(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """D := alpha*A*B*C + beta*D."""
    ni, nj, nk, nl = p["NI"], p["NJ"], p["NK"], p["NL"]
    alpha, beta = 1.25, 0.8
    i, j = grid(ni, nk)
    a = ((i * (j + 3) + 1) % ni) / ni
    i, j = grid(nk, nj)
    b = ((i + 2) * (j + 1) % nj) / nj
    i, j = grid(nj, nl)
    c = ((i * j + 2 * i + 5) % nl) / nl
    i, j = grid(ni, nl)
    d = ((i + 1) * (j + 4) % nk) / nk
    return {"D": beta * d + (alpha * (a @ b)) @ c}


def mm3(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """G := (A*B)*(C*D)."""
    ni, nj, nk, nl, nm = p["NI"], p["NJ"], p["NK"], p["NL"], p["NM"]
    i, j = grid(ni, nk)
    a = ((i * (j + 2) + 3) % ni) / (5 * ni)
    i, j = grid(nk, nj)
    b = (((i + 1) * j + 1) % nj) / (5 * nj)
    i, j = grid(nj, nm)
    c = ((i * (j + 4)) % nl) / (5 * nl)
    i, j = grid(nm, nl)
    d = (((i + 3) * (j + 1) + 2) % nk) / (5 * nk)
    return {"G": (a @ b) @ (c @ d)}


def atax(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """y := A^T*(A*x)."""
    m, n = p["M"], p["N"]
    x = (np.arange(n) + 2) / n
    i, j = grid(m, n)
    a = ((i * (j + 1) + 2 * i + j + 1) % n) / (4 * n)
    return {"y": a.T @ (a @ x)}


def bicg(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """s := A^T*r, q := A*p."""
    m, n = p["M"], p["N"]
    pv = ((5 * np.arange(m) + 1) % m) / m
    r = ((3 * np.arange(n) + 2) % n) / n
    i, j = grid(n, m)
    a = (((i + 1) * (j + 2) + i) % n) / n
    return {"s": a.T @ r, "q": a @ pv}


def doitgen(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """A[r][q][:] := A[r][q][:] * C4 for every (r, q)."""
    nq, nr, np_ = p["NQ"], p["NR"], p["NP"]
    r, q, s = np.indices((nr, nq, np_), dtype=np.int64)
    a = ((r * (s + 2) + q * (s * s + 1) + 1) % np_) / np_
    i, j = grid(np_, np_)
    c4 = (((i + 1) * (j + 3) + j) % np_) / np_
    return {"A": a @ c4}


def mvt(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """x1 := x1 + A*y_1, x2 := x2 + A^T*y_2."""
    n = p["N"]
    k = np.arange(n)
    x1 = ((2 * k + 1) % n) / n
    x2 = ((3 * k + 5) % n) / n
    y1 = ((k + 7) % n) / n
    y2 = ((5 * k + 2) % n) / n
    i, j = grid(n, n)
    a = (((i + 2) * (j + 1) + j) % n) / n
    return {"x1": x1 + a @ y1, "x2": x2 + a.T @ y2}


REFERENCES = {"2mm": mm2, "3mm": mm3, "atax": atax, "bicg": bicg, "doitgen": doitgen, "mvt": mvt}
