"""NumPy references for linear-algebra/solvers."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from polybench.reference.grid import grid


def cholesky(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """Lower triangle of A replaced by its Cholesky factor L (A = L L^T); strict upper triangle kept."""
    n = p["N"]
    i, j = grid(n, n)
    a = ((i + 1) * (j + 1) % n) / n
    np.fill_diagonal(a, float(n))
    low = np.linalg.cholesky(a)
    return {"A": np.where(j <= i, low, a)}


def durbin(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """Solution y of the Toeplitz system T y = -r, T[i][j] = 1 if i == j else r[|i-j|-1]."""
    n = p["N"]
    k = np.arange(n)
    r = ((k % 4) - 1.5) / (6.0 * (k + 1.0) ** 2)
    first_col = np.concatenate(([1.0], r[:-1]))
    i, j = grid(n, n)
    t = first_col[np.abs(i - j)]
    return {"y": np.linalg.solve(t, -r)}


def gramschmidt(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """QR of the N x M matrix A (R with positive diagonal); A ends as Q scaled by diag(R) column-wise."""
    m, n = p["M"], p["N"]
    i, j = grid(n, m)
    a = ((i * (j + 1) + 3) % n) / n - 0.5
    a[np.arange(m), np.arange(m)] += n
    q, r = np.linalg.qr(a)
    signs = np.sign(np.diag(r))
    q, r = q * signs, r * signs[:, None]
    return {"A": q * np.diag(r), "R": np.triu(r), "Q": q}


def _lu_nopivot(a: np.ndarray) -> np.ndarray:
    """Doolittle LU without pivoting, packed: strict lower part L (unit diagonal implied), upper part U."""
    a = a.copy()
    for k in range(a.shape[0] - 1):
        a[k + 1 :, k] /= a[k, k]
        a[k + 1 :, k + 1 :] -= np.outer(a[k + 1 :, k], a[k, k + 1 :])
    return a


def lu(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """A overwritten by its packed LU factors (no pivoting)."""
    n = p["N"]
    i, j = grid(n, n)
    a = ((i * (j + 3) + 2 * j + 1) % n) / n
    np.fill_diagonal(a, float(n))
    return {"A": _lu_nopivot(a)}


def ludcmp(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """Solution x of A x = b."""
    n = p["N"]
    i, j = grid(n, n)
    a = ((2 * i * j + 5 * i + j + 4) % n) / n - 0.5
    np.fill_diagonal(a, n / 2 + 1.0)
    b = 1.0 + ((3 * np.arange(n) + 1) % n) / n
    return {"x": np.linalg.solve(a, b)}


def trisolv(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """Solution x of L x = b for the lower triangular L."""
    n = p["N"]
    i, j = grid(n, n)
    low = np.where(j < i, ((3 * i + 7 * j + 1) % n) / n - 0.5, 0.0)
    np.fill_diagonal(low, n / 2 + 1.0)
    b = ((5 * np.arange(n) + 2) % 11) - 5.0
    return {"x": np.linalg.solve(low, b)}


REFERENCES = {
    "cholesky": cholesky,
    "durbin": durbin,
    "gramschmidt": gramschmidt,
    "lu": lu,
    "ludcmp": ludcmp,
    "trisolv": trisolv,
}
