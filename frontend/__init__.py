"""looper's C frontend: the `#pragma scop` regions of a C file read into `looper.ir.Scop`s.

    read_scops(path_or_text, include_dirs=(), defines={}) -> [Scop | FrontendError, ...]   one entry per region
    read_file(...) -> Reading(entries, warnings)          read_scops' entries and the warnings (calls assumed pure, ...)
    read_scop(...)                                        -> the first region's Scop, or raises FrontendError
    to_jscop(scop) -> dict;  dump_scops(path, include_dirs, defines) -> str                Polly's JSCoP JSON

`path_or_text` is a path (PathLike, or a str naming a file) or C text (a str with a newline or a
`#pragma`). `defines` is `{"N": 100, "MINI_DATASET": None}` or `["N=100", "MINI_DATASET"]`, like -D.

Conventions of the Scops produced:
- Parameters are listed in order of first appearance; the context says each is >= 1 (or >= its
  macro value when that is smaller). A name in a bound, condition or subscript that is not an
  iterator is a parameter named as written (`_PB_N`), unless it is a macro whose expansion is a
  longer affine expression (`#define M (N-1)`), which is expanded; see frontend/policy.py.
- Statements are `S0, S1, ...` in textual order; domains, accesses and the 2d+1 schedules (padded
  with zeros; a decrementing loop is scheduled by `-i`) share the Scop's parameter list.
- Variables read or written in statement bodies are arrays (scalars are 0-d arrays), found among
  the region's locals, the function's locals and parameters, and file-scope globals. A name that
  is none of these and is never written (a macro, an enum constant, `M_PI`) is a constant: no access.
- Bodies are kept as written (macros unexpanded), so `Statement.body.to_c(rename)` compiles in the
  original file. Offsets (`Region.start/end`, `Statement.span`) index the file's text as decoded
  from UTF-8 with newlines untranslated (`open(path, newline="")`); LF, CR LF and lone CR all end
  lines (frontend.source.reading_view).
- Bad input (frontend/validity.py): a FrontendError with `malformed` set is text that is not C (or
  broken scop markup); without it, C outside the affine subset. Calls: frontend/calls.py.
"""

from frontend.errors import FrontendError, FrontendWarning
from frontend.jscop import dump_scops, to_jscop
from frontend.reader import Reading, read_file, read_scop, read_scops

__all__ = ["FrontendError", "FrontendWarning", "Reading", "dump_scops", "read_file", "read_scop", "read_scops",
           "to_jscop"]
