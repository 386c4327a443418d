"""LOOPer's representation of a (program, schedule) pair as fixed-size tensors.

Every field is documented in costmodel/FEATURES.md (the one place that names them). The work is
split as the design asks: `ProgramFeatures` holds what depends only on the program (original domains,
access matrices, expression tokens) and is computed once per Scop; `Featurizer.schedule()` adds what
a schedule changes (loop tree, transformed matrices, tags, unimodular steps) from `schedule.lowered`,
with a per-program cache of parsed schedule rows so that a search's thousands of candidates cost
little more than one `str(aff)` per row.

The package's modules, each importing only the ones listed before it: `layout` (sizes, version,
token vocabulary, the computation-vector layout), `expression` (expression tokens and counts),
`program` (program-level features), `schedule` (parsed schedule rows, the per-program cache),
`tree` (the loop tree), `computation` (computation vectors, unimodular steps), `sample` (`Sample`,
`Featurizer`) and `batch` (`Batch`, `collate`). Everything public is re-exported here.
"""

from __future__ import annotations

from costmodel.features.batch import Batch, collate
from costmodel.features.computation import step_matrix
from costmodel.features.expression import expression_tokens
from costmodel.features.layout import (
    ACCESS_BLOCK,
    ACCESS_COLS,
    ACCESS_HEADER,
    BLOCKS,
    COMP_DIM,
    CONSTRAINT_COLS,
    COST_PER_ACCESS,
    DEFAULT_PARAM,
    DTYPES,
    FEATURE_VERSION,
    LOOP_DIM,
    LOOP_ROW,
    MAX_ARRAY_DIMS,
    MAX_CONSTRAINTS,
    MAX_DEPTH,
    MAX_EXPR_TOKENS,
    MAX_LOOPS,
    MAX_READS,
    MAX_TILED,
    MAX_UNIMOD_STEPS,
    N_COST,
    N_EXPR_COUNTS,
    N_TAGS,
    OFFSET,
    TOKEN_ID,
    TOKENS,
    UNIMOD_DIM,
    ctype,
    described,
    slog,
)
from costmodel.features.program import ProgramFeatures, StatementInfo, program_features
from costmodel.features.sample import Featurizer, Sample
from costmodel.features.schedule import Row

__all__ = [
    "ACCESS_BLOCK",
    "ACCESS_COLS",
    "ACCESS_HEADER",
    "BLOCKS",
    "COMP_DIM",
    "CONSTRAINT_COLS",
    "COST_PER_ACCESS",
    "DEFAULT_PARAM",
    "DTYPES",
    "FEATURE_VERSION",
    "LOOP_DIM",
    "LOOP_ROW",
    "MAX_ARRAY_DIMS",
    "MAX_CONSTRAINTS",
    "MAX_DEPTH",
    "MAX_EXPR_TOKENS",
    "MAX_LOOPS",
    "MAX_READS",
    "MAX_TILED",
    "MAX_UNIMOD_STEPS",
    "N_COST",
    "N_EXPR_COUNTS",
    "N_TAGS",
    "OFFSET",
    "TOKENS",
    "TOKEN_ID",
    "UNIMOD_DIM",
    "Batch",
    "Featurizer",
    "ProgramFeatures",
    "Row",
    "Sample",
    "StatementInfo",
    "collate",
    "ctype",
    "described",
    "expression_tokens",
    "program_features",
    "slog",
    "step_matrix",
]
