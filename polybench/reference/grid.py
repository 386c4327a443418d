"""Index arrays the references initialise their matrices from."""

from __future__ import annotations

import numpy as np


def grid(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer row and column index arrays of a rows x cols matrix."""
    i, j = np.indices((rows, cols), dtype=np.int64)
    return i, j
