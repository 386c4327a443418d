"""looper's C frontend: `#pragma scop` regions of C files read into `looper.ir.Scop`s.

read_scops(path_or_text, include_dirs=(), defines={})  -> [Scop | FrontendError, ...]  (one per region)
read_scop(...)                                          -> Scop of the first region, or raises FrontendError
to_jscop(scop) -> dict ;  dump_scops(path, include_dirs, defines) -> str   (Polly's JSCoP JSON)
"""

from frontend.errors import FrontendError
from frontend.jscop import dump_scops, to_jscop
from frontend.reader import read_scop, read_scops

__all__ = ["FrontendError", "dump_scops", "read_scop", "read_scops", "to_jscop"]
