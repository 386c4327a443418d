"""looper: a polyhedral loop optimizer for C whose transformations are chosen by a learned cost model.

`looper.optimize(path_or_source, search=...)` is the one-call API (see looper.api); the pieces
live in looper.ir, looper.deps, looper.transforms, looper.schedule, looper.legality and looper.search.
"""

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The API layer imports the frontend and codegen, which import this package's core: load it lazily.
    if name in ("optimize", "Result"):
        from looper import api

        return getattr(api, name)
    raise AttributeError(f"module 'looper' has no attribute {name!r}")
