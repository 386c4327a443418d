"""NumPy references for stencils."""

REFERENCES: dict = {}
