"""looper: a polyhedral loop optimizer for C whose transformations are chosen by a learned cost model."""

__version__ = "0.1.0"
