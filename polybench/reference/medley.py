"""NumPy references for medley."""

REFERENCES: dict = {}
