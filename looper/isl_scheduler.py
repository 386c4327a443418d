"""isl's scheduler (Pluto-like: tiling- and parallelism-friendly affine schedules), as 2d+1 maps."""

from __future__ import annotations

import faulthandler
import os
from collections.abc import Callable

import islpy as isl

from looper.deps import Dependences
from looper.ir import Scop
from looper.transforms import Reschedule


class SchedulerCrash(ValueError):
    """isl's scheduler died on a SCoP (a fault inside isl): no isl schedule for it."""


def compute(scop: Scop, deps: Dependences) -> isl.Schedule:
    """Run isl's scheduler with every dependence as validity, proximity and coincidence constraint.

    It runs in a forked child: on some SCoPs isl's scheduler itself faults (SIGSEGV, found by looper
    fuzz), which would kill looper-opt; the child's death becomes a SchedulerCrash instead."""
    sc = isl.ScheduleConstraints.on_domain(scop.domain).set_context(scop.context)
    relations = deps.pieces if deps.pieces is not None else deps.all  # the simple pieces: see Dependences.pieces
    sc = sc.set_validity(relations).set_proximity(relations).set_coincidence(relations)
    text = _in_child(lambda: str(sc.compute_schedule()))
    return isl.Schedule.read_from_str(scop.domain.get_ctx(), text)


def _in_child(work: Callable[[], str]) -> str:
    """`work()` computed in a forked child process and its text sent back; a child that dies raises."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, write, leave without any of the parent's clean-up
        os.close(read)
        faulthandler.disable()  # its fault is reported by the parent, once
        code = 1
        try:
            with os.fdopen(write, "wb") as out:
                out.write(work().encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as inp:
        data = inp.read()
    _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"status {os.WEXITSTATUS(status)}"
        raise SchedulerCrash(f"isl's scheduler failed in its child process ({how})")
    return data.decode()


def to_2d1(schedule: isl.Schedule, scop: Scop) -> dict[str, isl.Map]:
    """Flatten a schedule tree into per-statement 2d+1 maps: bands give loop dimensions, sequences
    give the constant dimensions between them."""
    spaces = {s.name: s.domain.get_space() for s in scop.statements}
    rows: dict[str, list[isl.Aff]] = {n: [_const(sp, 0)] for n, sp in spaces.items()}
    fresh = set(spaces)  # statements whose last (constant) row no sequence has set yet

    def walk(node: isl.ScheduleNode, active: list[str]) -> None:
        kind = node.get_type()
        if kind == isl.schedule_node_type.leaf:
            return
        if kind == isl.schedule_node_type.filter:
            keep = node.filter_get_filter()
            active = [s for s in active if not keep.extract_set(spaces[s]).is_empty()]
        elif kind == isl.schedule_node_type.band:
            partial = node.band_get_partial_schedule()
            for m in range(node.band_n_member()):
                upa = partial.get_at(m)
                for s in active:
                    pa = upa.extract_pw_aff(spaces[s].from_domain().add_dims(isl.dim_type.out, 1))
                    rows[s] += [_single(pa, s), _const(spaces[s], 0)]
                    fresh.add(s)
        elif kind in (isl.schedule_node_type.sequence, isl.schedule_node_type.set):
            for i in range(node.n_children()):
                child = node.child(i)
                members = [s for s in active if not child.filter_get_filter().extract_set(spaces[s]).is_empty()]
                for s in members:
                    if s not in fresh:  # a sequence right below a sequence: open a new level
                        rows[s] += [_const(spaces[s], 0), _const(spaces[s], 0)]
                    rows[s][-1] = _const(spaces[s], i)
                    fresh.discard(s)
                walk(child, members)
            return
        if node.n_children():
            walk(node.child(0), active)

    walk(schedule.get_root(), list(spaces))
    width = max(len(r) for r in rows.values())
    maps = {}
    for name, r in rows.items():
        r = r + [_const(spaces[name], 0)] * (width - len(r))
        lst = isl.AffList.alloc(r[0].get_ctx(), width)
        for a in r:
            lst = lst.add(a)
        space = spaces[name].from_domain().add_dims(isl.dim_type.out, width)
        maps[name] = isl.Map.from_multi_aff(isl.MultiAff.from_aff_list(space, lst))
    return maps


def reschedule(scop: Scop, deps: Dependences) -> Reschedule:
    """The isl scheduler's schedule as a transformation."""
    maps = to_2d1(compute(scop, deps), scop)
    return Reschedule(tuple((s.name, str(maps[s.name])) for s in scop.statements))


def _const(space: isl.Space, value: int) -> isl.Aff:
    ls = isl.LocalSpace.from_space(space)
    return isl.Aff.zero_on_domain(ls).set_constant_val(isl.Val.int_from_si(space.get_ctx(), value))


def _single(pa: isl.PwAff, stmt: str) -> isl.Aff:
    """The one affine piece of a statement's band member (isl's scheduler gives one per statement)."""
    pieces = pa.get_pieces()
    if len(pieces) != 1:
        raise ValueError(f"{stmt}: isl's schedule is piecewise ({len(pieces)} pieces)")
    return pieces[0][1]
