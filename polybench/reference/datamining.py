"""NumPy references for datamining."""

REFERENCES: dict = {}
