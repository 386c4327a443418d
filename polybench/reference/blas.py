"""NumPy references for linear-algebra/blas."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from polybench.reference.grid import grid


def gemm(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """C := alpha*A*B + beta*C."""
    ni, nj, nk = p["NI"], p["NJ"], p["NK"]
    alpha, beta = 1.5, 1.2
    i, j = grid(ni, nj)
    c = ((i * j + 1) % ni) / ni
    i, j = grid(ni, nk)
    a = (i * (j + 1) % nk) / nk
    i, j = grid(nk, nj)
    b = (i * (j + 2) % nj) / nj
    return {"C": beta * c + alpha * (a @ b)}


def gemver(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """A += u1 v1^T + u2 v2^T; x = beta A^T y + z; w = alpha A x."""
    n = p["N"]
    alpha, beta = 0.75, 1.25
    v = np.arange(n, dtype=np.int64)
    u1 = (v % 7) / 7
    v1 = ((3 * v + 1) % n) / n - 0.5
    u2 = (v + 2) / n
    v2 = ((v * 5 + 2) % 11) / 22
    y = ((v * v + 1) % n) / n
    z = ((2 * v + 3) % 9) / 9
    i, j = grid(n, n)
    a = ((i * (j + 3) + 2) % n) / n - 0.25
    a = a + np.outer(u1, v1) + np.outer(u2, v2)
    x = beta * (a.T @ y) + z
    return {"w": alpha * (a @ x)}


def gesummv(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """y = alpha A x + beta B x."""
    n = p["N"]
    alpha, beta = 1.25, 0.8
    x = ((5 * np.arange(n, dtype=np.int64) + 2) % n) / n
    i, j = grid(n, n)
    a = ((i * (j + 2) + 1) % n) / n
    b = ((i + 3 * j + i * j) % 17) / 17 - 0.5
    return {"y": alpha * (a @ x) + beta * (b @ x)}


def symm(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """C := alpha S B + beta C, S the symmetric matrix whose lower triangle is A's."""
    m, n = p["M"], p["N"]
    alpha, beta = 1.5, 1.2
    i, j = grid(m, n)
    c = ((2 * i + j + 1) % 10) / 10
    b = ((i * (j + 1) + 3) % n) / n - 0.5
    i, j = grid(m, m)
    lower = np.tril(((i * j + 2 * i + 1) % m) / m)
    s = lower + np.tril(lower, -1).T
    return {"C": alpha * (s @ b) + beta * c}


def syr2k(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """Lower triangle of C := alpha (A B^T + B A^T) + beta C; upper triangle unchanged."""
    m, n = p["M"], p["N"]
    alpha, beta = 1.5, 1.2
    i, j = grid(n, m)
    a = ((i * (j + 2) + 1) % n) / n
    b = ((3 * i + j * j + 2) % m) / m - 0.5
    i, j = grid(n, n)
    c = ((i + 2 * j + i * j) % 11) / 11
    updated = alpha * (a @ b.T + b @ a.T) + beta * c
    return {"C": np.where(j <= i, updated, c)}


def syrk(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """Lower triangle of C := alpha A A^T + beta C; upper triangle unchanged."""
    m, n = p["M"], p["N"]
    alpha, beta = 1.5, 1.2
    i, j = grid(n, m)
    a = ((i * (j + 3) + 2 * j + 1) % m) / m - 0.25
    i, j = grid(n, n)
    c = ((2 * i + j * (i + 1)) % 13) / 13
    updated = alpha * (a @ a.T) + beta * c
    return {"C": np.where(j <= i, updated, c)}


def trmm(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """B := alpha L^T B, L unit lower triangular with A's strict lower triangle."""
    m, n = p["M"], p["N"]
    alpha = 1.5
    i, j = grid(m, m)
    unit_lower = np.tril(((i * (j + 2) + 3) % m) / m - 0.5, -1) + np.eye(m)
    i, j = grid(m, n)
    b = ((i + j * (i + 3)) % n) / n
    return {"B": alpha * (unit_lower.T @ b)}


REFERENCES = {
    "gemm": gemm,
    "gemver": gemver,
    "gesummv": gesummv,
    "symm": symm,
    "syr2k": syr2k,
    "syrk": syrk,
    "trmm": trmm,
}
