"""NumPy references: each kernel's initialisation and mathematics, independent of the C code.

A reference is a function `(params) -> {array name: ndarray}` giving the live-out arrays of one
run with the given parameter values (e.g. `{"NI": 20, "NJ": 25, "NK": 30}`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from polybench.reference import blas, datamining, kernels, medley, solvers, stencils

Reference = Callable[[Mapping[str, int]], dict[str, np.ndarray]]

REFERENCES: dict[str, Reference] = {
    **datamining.REFERENCES,
    **blas.REFERENCES,
    **kernels.REFERENCES,
    **solvers.REFERENCES,
    **medley.REFERENCES,
    **stencils.REFERENCES,
}
