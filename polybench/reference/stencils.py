"""NumPy references for stencils."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from polybench.reference.grid import grid


def _thomas(lower: float, diag: float, upper: float, rhs: np.ndarray) -> np.ndarray:
    """Solve, for each row r of rhs (n - 2 interior unknowns), the constant tridiagonal system
    lower*x[j-1] + diag*x[j] + upper*x[j+1] = rhs[r, j] with x = 1 at both ends."""
    rows, m = rhs.shape
    p = np.zeros((rows, m + 1))
    q = np.ones((rows, m + 1))  # q[:, 0] = the boundary value
    for j in range(1, m + 1):
        denom = lower * p[:, j - 1] + diag
        p[:, j] = -upper / denom
        q[:, j] = (rhs[:, j - 1] - lower * q[:, j - 1]) / denom
    x = np.ones((rows, m + 2))
    for j in range(m, 0, -1):
        x[:, j] = p[:, j] * x[:, j + 1] + q[:, j]
    return x


def adi(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """ADI heat diffusion: per step, implicit along columns (into v), then along rows (into u)."""
    tsteps, n = p["TSTEPS"], p["N"]
    i, j = grid(n, n)
    u = (2 * i + (n - j)) / (3 * n) + 1.0 / 3
    dx = dy = 1.0 / n
    dt = 1.0 / tsteps
    mul1 = 2.0 * dt / (dx * dx)
    mul2 = 1.0 * dt / (dy * dy)
    a, b = -mul1 / 2, 1 + mul1
    d, e = -mul2 / 2, 1 + mul2
    inner = slice(1, n - 1)
    for _ in range(tsteps):
        # Column sweep: for each column c, unknowns v[1..n-2, c], explicit in the row direction of u.
        rhs = (-d * u[inner, : n - 2] + (1 + 2 * d) * u[inner, inner] - d * u[inner, 2:]).T
        v = np.zeros((n, n))
        v[:, inner] = _thomas(a, b, a, rhs).T
        # Row sweep: for each row r, unknowns u[r, 1..n-2], explicit in the column direction of v.
        rhs = -a * v[: n - 2, inner] + (1 + 2 * a) * v[inner, inner] - a * v[2:, inner]
        u[inner, :] = _thomas(d, e, d, rhs)
    return {"u": u}


def fdtd_2d(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """2-D FDTD (Yee): per step, source row of ey, then ey, ex from hz, then hz from ex, ey."""
    tmax, nx, ny = p["TMAX"], p["NX"], p["NY"]
    fict = (np.arange(tmax) + 1) / tmax
    i, j = grid(nx, ny)
    ex = (i * (j + 1) % nx) / nx
    ey = ((i + 2) * j % ny) / ny
    hz = ((3 * i + 2 * j) % nx) / nx
    for t in range(tmax):
        ey[0, :] = fict[t]
        ey[1:, :] -= 0.5 * (hz[1:, :] - hz[:-1, :])
        ex[:, 1:] -= 0.5 * (hz[:, 1:] - hz[:, :-1])
        hz[:-1, :-1] -= 0.7 * (ex[:-1, 1:] - ex[:-1, :-1] + ey[1:, :-1] - ey[:-1, :-1])
    return {"ex": ex, "ey": ey, "hz": hz}


def _heat_step(a: np.ndarray) -> np.ndarray:
    """One explicit heat step on the interior of a 3-D grid; the boundary is copied."""
    c = a[1:-1, 1:-1, 1:-1]
    lap = (
        (a[2:, 1:-1, 1:-1] - 2 * c + a[:-2, 1:-1, 1:-1])
        + (a[1:-1, 2:, 1:-1] - 2 * c + a[1:-1, :-2, 1:-1])
        + (a[1:-1, 1:-1, 2:] - 2 * c + a[1:-1, 1:-1, :-2])
    )
    out = a.copy()
    out[1:-1, 1:-1, 1:-1] = c + 0.125 * lap
    return out


def heat_3d(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """3-D heat equation: TSTEPS pairs of explicit steps A -> B -> A."""
    tsteps, n = p["TSTEPS"], p["N"]
    i, j, k = np.indices((n, n, n), dtype=np.int64)
    a = (2 * i + j + (n - k)) * 5 / n
    for _ in range(tsteps):
        a = _heat_step(_heat_step(a))  # B starts equal to A, so its boundary is A's
    return {"A": a}


def jacobi_1d(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """1-D Jacobi: TSTEPS pairs of 3-point averages A -> B -> A (PolyBench's 0.33333 weight)."""
    tsteps, n = p["TSTEPS"], p["N"]
    idx = np.arange(n)
    a = ((7 * idx) % 16) / 16
    b = (n - idx) / n
    for _ in range(tsteps):
        b[1:-1] = 0.33333 * (a[:-2] + a[1:-1] + a[2:])
        a[1:-1] = 0.33333 * (b[:-2] + b[1:-1] + b[2:])
    return {"A": a}


def jacobi_2d(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """2-D Jacobi: TSTEPS pairs of 5-point averages A -> B -> A."""
    tsteps, n = p["TSTEPS"], p["N"]
    i, j = grid(n, n)
    a = ((3 * i + 5 * j) % 10) / 9
    b = ((i * (j + 1)) % n) / n

    def sweep(src: np.ndarray, dst: np.ndarray) -> None:
        dst[1:-1, 1:-1] = 0.2 * (src[1:-1, 1:-1] + src[1:-1, :-2] + src[1:-1, 2:] + src[2:, 1:-1] + src[:-2, 1:-1])

    for _ in range(tsteps):
        sweep(a, b)
        sweep(b, a)
    return {"A": a}


def seidel_2d(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """2-D Gauss-Seidel: in-place 9-point averages, row by row, TSTEPS times (inherently sequential)."""
    tsteps, n = p["TSTEPS"], p["N"]
    i, j = grid(n, n)
    a = (((2 * i + 3 * j + 1) % 12) / 11).tolist()
    for _ in range(tsteps):
        for r in range(1, n - 1):
            above, row, below = a[r - 1], a[r], a[r + 1]
            for c in range(1, n - 1):
                row[c] = (
                    above[c - 1] + above[c] + above[c + 1]
                    + row[c - 1] + row[c] + row[c + 1]
                    + below[c - 1] + below[c] + below[c + 1]
                ) / 9.0
    return {"A": np.array(a)}


REFERENCES = {
    "adi": adi,
    "fdtd-2d": fdtd_2d,
    "heat-3d": heat_3d,
    "jacobi-1d": jacobi_1d,
    "jacobi-2d": jacobi_2d,
    "seidel-2d": seidel_2d,
}
