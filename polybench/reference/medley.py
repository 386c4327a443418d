"""NumPy references for medley."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from polybench.reference.grid import grid


def _filter(x: np.ndarray, c: tuple[np.float32, ...], b1: np.float32, b2: np.float32) -> np.ndarray:
    """Second-order recursion along axis 1 of x (rows in parallel, float32, zero history):
    y[j] = c0*x[j] + c1*x[j-1] + c2*x[j-2] + b1*y[j-1] + b2*y[j-2]."""
    y = np.zeros_like(x)
    x1 = x2 = y1 = y2 = np.zeros(x.shape[0], np.float32)
    for j in range(x.shape[1]):
        y[:, j] = c[0] * x[:, j] + c[1] * x1 + c[2] * x2 + b1 * y1 + b2 * y2
        x1, x2 = x[:, j], x1
        y1, y2 = y[:, j], y1
    return y


def _deriche_pass(x: np.ndarray, a: tuple[np.float32, ...], b1: np.float32, b2: np.float32) -> np.ndarray:
    """One direction of the filter along axis 1: causal part (a[0], a[1]) plus anti-causal part (a[2], a[3])."""
    zero = np.float32(0.0)
    causal = _filter(x, (a[0], a[1], zero), b1, b2)
    anticausal = _filter(x[:, ::-1], (zero, a[2], a[3]), b1, b2)[:, ::-1]
    return causal + anticausal


def deriche(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """Deriche's recursive edge filter: rows then columns, causal plus anti-causal passes (float32)."""
    w, h = p["W"], p["H"]
    f32 = np.float32
    alpha = f32(0.25)
    i, j = grid(w, h)
    img_in = (((37 * i + 101 * j) % 256).astype(f32) / f32(255.0)).astype(f32)

    e = np.exp(-alpha)
    k = (f32(1.0) - e) * (f32(1.0) - e) / (f32(1.0) + f32(2.0) * alpha * e - np.exp(f32(2.0) * alpha))
    a1 = k
    a2 = k * e * (alpha - f32(1.0))
    a3 = k * e * (alpha + f32(1.0))
    a4 = -k * np.exp(f32(-2.0) * alpha)
    # PolyBench 4.2.1's feedback coefficients, kept as the kernel states them.
    b1 = np.power(f32(2.0), -alpha)
    b2 = -np.exp(f32(-2.0) * alpha)

    a = (a1, a2, a3, a4)
    img_out = _deriche_pass(img_in, a, b1, b2)  # along rows
    img_out = _deriche_pass(img_out.T, a, b1, b2).T  # along columns
    return {"imgOut": img_out}


def floyd_warshall(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """All-pairs shortest paths: relax every pair through each intermediate vertex in turn."""
    n = p["N"]
    i, j = grid(n, n)
    path = (5 * i + 3 * j) % 17 + 1
    path[((2 * i + j) % 9 == 0) | ((i + 4 * j) % 11 == 0)] = 1000
    for k in range(n):
        # Row and column k do not change during step k (weights are positive), so this is exact.
        path = np.minimum(path, path[:, k : k + 1] + path[k : k + 1, :])
    return {"path": path}


def nussinov(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """Nussinov's RNA folding: most nested complementary pairs of every subsequence."""
    n = p["N"]
    idx = np.arange(n)
    seq = (13 * idx + idx // 3 + idx // 7) % 4
    pairs = (seq[:, None] + seq[None, :]) == 3
    table = np.zeros((n, n), dtype=np.int64)
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, n):
            best = max(table[i, j], table[i, j - 1])
            if i + 1 < n:
                best = max(best, table[i + 1, j])
                bonus = int(pairs[i, j]) if i < j - 1 else 0
                best = max(best, table[i + 1, j - 1] + bonus)
            if j > i + 1:
                best = max(best, int(np.max(table[i, i + 1 : j] + table[i + 2 : j + 1, j])))
            table[i, j] = best
    return {"table": table}


REFERENCES = {"deriche": deriche, "floyd-warshall": floyd_warshall, "nussinov": nussinov}
