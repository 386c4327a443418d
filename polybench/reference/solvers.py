"""NumPy references for solvers."""

REFERENCES: dict = {}
