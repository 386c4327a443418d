"""The PolyBench/C 4.2.1 suite as data: kernels, sizes, types, live-out arrays, operation counts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

SIZES = ("MINI", "SMALL", "MEDIUM", "LARGE", "EXTRALARGE")
ROOT = Path(__file__).resolve().parent
UTILITIES = ROOT / "utilities"


@dataclass(frozen=True)
class Kernel:
    """One kernel of the suite: where its source is and what it computes."""

    name: str
    category: str
    dtype: str  # C element type: "double", "float" or "int"
    params: Mapping[str, Mapping[str, int]]  # size -> parameter -> value
    liveouts: tuple[str, ...]  # arrays dumped by -DPOLYBENCH_DUMP_ARRAYS, in dump order
    flops: Callable[[Mapping[str, int]], float]  # arithmetic operations of one run

    @property
    def source(self) -> Path:
        """The kernel's C file."""
        return ROOT / self.category / self.name / f"{self.name}.c"

    def sizes(self, size: str) -> dict[str, int]:
        """The parameter values of a dataset size."""
        return dict(self.params[size.upper()])


def _sizes(names: str, *rows: tuple[int, ...]) -> dict[str, dict[str, int]]:
    """Build the size table from parameter names and one row of values per dataset size."""
    keys = names.split()
    assert len(rows) == len(SIZES)
    return {size: dict(zip(keys, row, strict=True)) for size, row in zip(SIZES, rows, strict=True)}


def _k(name: str, category: str, dtype: str, params: dict, liveouts: str, flops: Callable) -> Kernel:
    return Kernel(name, category, dtype, params, tuple(liveouts.split()), flops)


_DM, _BLAS, _KERN, _SOLV, _MED, _STEN = (
    "datamining",
    "linear-algebra/blas",
    "linear-algebra/kernels",
    "linear-algebra/solvers",
    "medley",
    "stencils",
)
_MN = _sizes("M N", (28, 32), (80, 100), (240, 260), (1200, 1400), (2600, 3000))
_N = _sizes("N", (40,), (120,), (400,), (2000,), (4000,))
_MN2 = _sizes("M N", (20, 30), (60, 80), (200, 240), (1000, 1200), (2000, 2600))
_MN3 = _sizes("M N", (38, 42), (116, 124), (390, 410), (1900, 2100), (1800, 2200))

KERNELS: dict[str, Kernel] = {
    k.name: k
    for k in [
        _k("correlation", _DM, "double", _MN, "corr", lambda p: p["N"] * p["M"] * (p["M"] - 1) + 6 * p["M"] * p["N"]),
        _k("covariance", _DM, "double", _MN, "cov", lambda p: p["N"] * p["M"] * (p["M"] + 1) + 2 * p["M"] * p["N"]),
        _k(
            "gemm", _BLAS, "double",
            _sizes("NI NJ NK", (20, 25, 30), (60, 70, 80), (200, 220, 240), (1000, 1100, 1200), (2000, 2300, 2600)),
            "C", lambda p: 2 * p["NI"] * p["NJ"] * p["NK"] + p["NI"] * p["NJ"],
        ),
        _k("gemver", _BLAS, "double", _N, "w", lambda p: 10 * p["N"] ** 2),
        _k("gesummv", _BLAS, "double", _sizes("N", (30,), (90,), (250,), (1300,), (2800,)), "y",
           lambda p: 4 * p["N"] ** 2 + 3 * p["N"]),
        _k("symm", _BLAS, "double", _MN2, "C", lambda p: 2 * p["N"] * p["M"] * (p["M"] - 1) + 5 * p["M"] * p["N"]),
        _k("syr2k", _BLAS, "double", _MN2, "C",
           lambda p: 2 * p["M"] * p["N"] * (p["N"] + 1) + p["N"] * (p["N"] + 1) / 2),
        _k("syrk", _BLAS, "double", _MN2, "C", lambda p: p["M"] * p["N"] * (p["N"] + 1) + p["N"] * (p["N"] + 1) / 2),
        _k("trmm", _BLAS, "double", _MN2, "B", lambda p: p["N"] * p["M"] * (p["M"] - 1) + p["M"] * p["N"]),
        _k(
            "2mm", _KERN, "double",
            _sizes("NI NJ NK NL", (16, 18, 22, 24), (40, 50, 70, 80), (180, 190, 210, 220),
                   (800, 900, 1100, 1200), (1600, 1800, 2200, 2400)),
            "D", lambda p: 2 * p["NI"] * p["NJ"] * p["NK"] + 2 * p["NI"] * p["NL"] * p["NJ"] + 2 * p["NI"] * p["NL"],
        ),
        _k(
            "3mm", _KERN, "double",
            _sizes("NI NJ NK NL NM", (16, 18, 20, 22, 24), (40, 50, 60, 70, 80), (180, 190, 200, 210, 220),
                   (800, 900, 1000, 1100, 1200), (1600, 1800, 2000, 2200, 2400)),
            "G",
            lambda p: 2 * (p["NI"] * p["NJ"] * p["NK"] + p["NJ"] * p["NL"] * p["NM"] + p["NI"] * p["NL"] * p["NJ"]),
        ),
        _k("atax", _KERN, "double", _MN3, "y", lambda p: 4 * p["M"] * p["N"]),
        _k("bicg", _KERN, "double", _MN3, "s q", lambda p: 4 * p["M"] * p["N"]),
        _k(
            "doitgen", _KERN, "double",
            _sizes("NQ NR NP", (8, 10, 12), (20, 25, 30), (40, 50, 60), (140, 150, 160), (220, 250, 270)),
            "A", lambda p: 2 * p["NR"] * p["NQ"] * p["NP"] * p["NP"],
        ),
        _k("mvt", _KERN, "double", _N, "x1 x2", lambda p: 4 * p["N"] ** 2),
        _k("cholesky", _SOLV, "double", _N, "A", lambda p: p["N"] ** 3 / 3),
        _k("durbin", _SOLV, "double", _N, "y", lambda p: 3 * p["N"] ** 2),
        _k("gramschmidt", _SOLV, "double", _MN2, "A R Q",
           # rows run to N and columns to M here (full column rank with the suite's M < N)
           lambda p: 2 * p["N"] * p["M"] * (p["M"] - 1) + 3 * p["M"] * p["N"]),
        _k("lu", _SOLV, "double", _N, "A", lambda p: 2 * p["N"] ** 3 / 3),
        _k("ludcmp", _SOLV, "double", _N, "x", lambda p: 2 * p["N"] ** 3 / 3 + 2 * p["N"] ** 2),
        _k("trisolv", _SOLV, "double", _N, "x", lambda p: p["N"] ** 2),
        _k(
            "deriche", _MED, "float",
            _sizes("W H", (64, 64), (192, 128), (720, 480), (4096, 2160), (7680, 4320)),
            "imgOut", lambda p: 32 * p["W"] * p["H"],
        ),
        _k("floyd-warshall", _MED, "int", _sizes("N", (60,), (180,), (500,), (2800,), (5600,)), "path",
           lambda p: 2 * p["N"] ** 3),
        _k("nussinov", _MED, "int", _sizes("N", (60,), (180,), (500,), (2500,), (5500,)), "table",
           lambda p: p["N"] ** 3 / 3),
        _k("adi", _STEN, "double", _sizes("TSTEPS N", (20, 20), (40, 60), (100, 200), (500, 1000), (1000, 2000)), "u",
           lambda p: 30 * p["TSTEPS"] * (p["N"] - 2) ** 2),
        _k(
            "fdtd-2d", _STEN, "double",
            _sizes("TMAX NX NY", (20, 20, 30), (40, 60, 80), (100, 200, 240), (500, 1000, 1200), (1000, 2000, 2600)),
            "ex ey hz", lambda p: 11 * p["TMAX"] * p["NX"] * p["NY"],
        ),
        _k("heat-3d", _STEN, "double", _sizes("TSTEPS N", (20, 10), (40, 20), (100, 40), (500, 120), (1000, 200)), "A",
           lambda p: 30 * p["TSTEPS"] * (p["N"] - 2) ** 3),
        _k("jacobi-1d", _STEN, "double",
           _sizes("TSTEPS N", (20, 30), (40, 120), (100, 400), (500, 2000), (1000, 4000)), "A",
           lambda p: 6 * p["TSTEPS"] * (p["N"] - 2)),
        _k("jacobi-2d", _STEN, "double",
           _sizes("TSTEPS N", (20, 30), (40, 90), (100, 250), (500, 1300), (1000, 2800)), "A",
           lambda p: 10 * p["TSTEPS"] * (p["N"] - 2) ** 2),
        _k("seidel-2d", _STEN, "double",
           _sizes("TSTEPS N", (20, 40), (40, 120), (100, 400), (500, 2000), (1000, 4000)), "A",
           lambda p: 9 * p["TSTEPS"] * (p["N"] - 2) ** 2),
    ]
}


def kernel(name: str) -> Kernel:
    """Look a kernel up by name; KeyError names the known kernels."""
    try:
        return KERNELS[name]
    except KeyError:
        raise KeyError(f"unknown PolyBench kernel {name!r}; known: {', '.join(sorted(KERNELS))}") from None
