"""NumPy references for kernels."""

REFERENCES: dict = {}
