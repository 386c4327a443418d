"""Measure a data set's stored schedules again, into a new database of the same schema.

Why: a label is a ratio of two run times taken in one session, and on this kind of 2-vCPU virtual
machine the time of an OpenMP variant depends on what else runs (costmodel/TRAINING.md). `looper
dataset remeasure` times the stored schedules again with the generator's own procedure (the same
pipeline and measurement harness), so that two labellings of the same schedules can be compared
(`looper dataset agreement`) or a data set labelled beside other jobs gets quiet labels. Resumable:
a program already in the output is skipped.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from codegen.harness import Policy
from costmodel import labels
from costmodel.dataset import MAX_SPREAD, ProgramRow, SampleRow, frontend_loader, ok_samples, open_db, programs
from costmodel.pipeline import Task, counts, measure_locally, recorder
from costmodel.programs import ProgramSpec
from costmodel.samplestore import stored_progress
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


def spec_of(program: ProgramRow) -> ProgramSpec:
    """A stored program as the generator measures it."""
    return ProgramSpec(program.key, program.suite or "", program.name or "", program.seed or 0, program.source,
                       program.defines)


def stored_schedules(program: ProgramRow, rows: list[SampleRow]) -> tuple[ProgramSpec, list[Schedule]]:
    """A stored program as the generator measures it, and the stored schedules `rows` of it."""
    scop = frontend_loader(program.source, program.defines)
    return spec_of(program), [Schedule.from_json(scop, r.schedule) for r in rows]


def remeasure(data: Path, out: Path, keys: list[str], *, repeat: int = 5, steady_only: bool = False,
              progress: Callable[..., None] | None = None, jobs: int | None = None) -> int:
    """Measure the stored schedules (status ok; with `steady_only`, only those with steady runs) of
    the programs `keys` of `data` again into `out` (`jobs` programs prepared at once, default: every
    core); return how many programs were measured now."""
    conn = open_db(data, create=False)
    progs, grouped = programs(conn), ok_samples(conn, MAX_SPREAD if steady_only else None)
    conn.close()
    tally = counts()

    def tasks() -> Iterator[Task]:
        for key in keys:
            if key not in grouped or stored_progress(out, key)[1]:
                if progress:
                    progress()
                continue
            spec, rows = spec_of(progs[key]), grouped[key]
            yield Task(spec, (labels.prepare_stored, spec, [r.schedule for r in rows], [r.origin for r in rows]),
                       len(rows))

    measure_locally(tasks(), jobs or os.cpu_count() or 1, Policy.from_repeat(repeat),
                    recorder(out, tally, None, progress))
    return tally["programs"]
