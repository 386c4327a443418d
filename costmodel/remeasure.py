"""Measure a data set's stored schedules again, into a new database of the same schema.

Why: a label is a ratio of two run times taken in one session, and on this kind of 2-vCPU virtual
machine the time of an OpenMP variant depends on what else runs (costmodel/TRAINING.md, "Measured
alone"). `looper dataset remeasure`, run on a quiet machine, gives a data set measured beside other
jobs new labels, with the generator's own procedure (`datagen.measure_schedules`). Resumable: a
program already in the output is skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from costmodel.datagen import ProgramSpec, compiler_record, measure_schedules, store, stored_progress
from costmodel.dataset import MAX_SPREAD, ProgramRow, SampleRow, frontend_loader, ok_samples, open_db, programs
from looper.schedule import Schedule


def chosen(keys: list[str], count: int | None, seed: int, salt: str = "") -> list[str]:
    """A seeded sample of program keys, in a seeded order (the same for the same keys, count, seed and salt)."""
    ordered = sorted(keys, key=lambda k: hashlib.sha256(f"{salt}{seed}:{k}".encode()).hexdigest())
    return ordered if count is None else ordered[:count]


def remeasure_order(keys: list[str], count: int | None, seed: int) -> list[str]:
    """The programs `looper dataset remeasure` measures, in its order. Salted because unsalted the
    order is `looper train`'s validation hash at the same seed (dataset.split_programs): the first
    programs measured again would all be validation programs of a model trained on them."""
    return chosen(keys, count, seed, salt="remeasure:")


def stored_schedules(program: ProgramRow, rows: list[SampleRow]) -> tuple[ProgramSpec, list[Schedule]]:
    """A stored program as the generator measures it, and the stored schedules `rows` of it."""
    scop = frontend_loader(program.source, program.defines)
    spec = ProgramSpec(program.key, program.suite, program.name, program.seed, program.source, program.defines)
    return spec, [Schedule.from_json(scop, r.schedule) for r in rows]


def remeasure(data: Path, out: Path, keys: list[str], *, repeat: int = 5, steady_only: bool = False,
              progress: Callable[[], None] | None = None) -> int:
    """Measure the stored schedules (status ok; with `steady_only`, only those with steady runs) of
    the programs `keys` of `data` again into `out`; return how many programs were measured now."""
    conn = open_db(data, create=False)
    progs, grouped = programs(conn), ok_samples(conn, MAX_SPREAD if steady_only else None)
    conn.close()
    compiler = compiler_record()
    measured = 0
    for key in keys:
        if progress:
            progress()
        if key not in grouped or stored_progress(out, key)[1]:
            continue
        spec, schedules = stored_schedules(progs[key], grouped[key])
        store(out, spec, measure_schedules(spec, schedules, repeat), compiler, requested=len(schedules))
        measured += 1
    return measured
