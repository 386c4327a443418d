"""Shrink a failing case to a small reproducer that fails the same way.

Greedy, one change at a time, each kept only if the case still fails with the same signature:
drop transformation steps (a candidate that is illegal or does not apply counts as not failing),
simplify step parameters, delete statements and whole loop nests from the SCoP region (the
schedule follows the renamed statements), and shrink the size definitions. The original program
of every changed candidate must run clean under the sanitizers, so that a reduced program never
fails because of undefined behaviour of its own.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from looper.fuzz.cases import Case, Outcome, WorkerLost

# call(function name, *args, **kwargs): runs a function of looper.fuzz.cases somewhere (a worker
# process with a time limit, or in process) and returns its result; raises on a crash or a hang.
Call = Callable[..., Any]


@dataclass
class Reduction:
    """The smallest failing case found and how much smaller it is."""

    case: Case
    outcome: Outcome
    attempts: int
    seconds: float
    steps_before: int
    steps_after: int
    statements_before: int
    statements_after: int


@dataclass(frozen=True)
class Item:
    """A statement of a region's text: a simple statement, a loop/if with its body, or a block."""

    start: int
    end: int  # just past the statement (its `;` or closing `}`)
    kind: str  # "simple", "for", "if", "block"
    children: tuple[Item, ...] = ()
    deletable: bool = True  # False for the unbraced body of a for/if (delete the parent instead)

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


def region_bounds(source: str) -> tuple[int, int] | None:
    """Offsets of the text between the `#pragma scop` line and the `#pragma endscop` line."""
    start = source.find("#pragma scop")
    end = source.find("#pragma endscop", start + 1)
    if start < 0 or end < 0:
        return None
    return source.index("\n", start) + 1, end


def parse_items(text: str, pos: int, end: int) -> list[Item]:
    """The statements of text[pos:end] (the C subset of SCoP regions), nested."""
    items: list[Item] = []
    while True:
        pos = _skip_space(text, pos, end)
        if pos >= end or text[pos] == "}":
            return items
        item = _statement(text, pos, end)
        items.append(item)
        pos = item.end


def _skip_space(text: str, pos: int, end: int) -> int:
    while pos < end:
        if text[pos].isspace():
            pos += 1
        elif text.startswith("//", pos) or text[pos] == "#":
            nl = text.find("\n", pos)
            pos = end if nl < 0 else nl + 1
        elif text.startswith("/*", pos):
            close = text.find("*/", pos + 2)
            pos = end if close < 0 else close + 2
        else:
            break
    return pos


def _keyword(text: str, pos: int, word: str) -> bool:
    after = pos + len(word)
    return text.startswith(word, pos) and (after >= len(text) or not (text[after].isalnum() or text[after] == "_"))


def _matching(text: str, pos: int, open_: str, close: str) -> int:
    """Offset just past the bracket that closes the one at `pos`."""
    depth = 0
    for i in range(pos, len(text)):
        if text[i] == open_:
            depth += 1
        elif text[i] == close:
            depth -= 1
            if depth == 0:
                return i + 1
    raise ValueError("unbalanced brackets")


def _statement(text: str, pos: int, end: int, deletable: bool = True) -> Item:
    if text[pos] == "{":
        close = _matching(text, pos, "{", "}")
        return Item(pos, close, "block", tuple(parse_items(text, pos + 1, close - 1)), deletable)
    for word in ("for", "if"):
        if _keyword(text, pos, word):
            paren = text.index("(", pos)
            after = _matching(text, paren, "(", ")")
            body = _statement(text, _skip_space(text, after, end), end, deletable=False)
            children = [body]
            stop = body.end
            if word == "if":
                nxt = _skip_space(text, stop, end)
                if _keyword(text, nxt, "else"):
                    other = _statement(text, _skip_space(text, nxt + 4, end), end, deletable=False)
                    children.append(other)
                    stop = other.end
            return Item(pos, stop, word, tuple(children), deletable)
    depth = 0
    for i in range(pos, end):
        if text[i] in "([":
            depth += 1
        elif text[i] in ")]":
            depth -= 1
        elif text[i] == ";" and depth == 0:
            return Item(pos, i + 1, "simple", (), deletable)
    raise ValueError("statement without ';'")


def deletions(source: str) -> list[tuple[int, int]]:
    """Spans of the region that can each be deleted on its own: whole nests first, then inner statements."""
    bounds = region_bounds(source)
    if bounds is None:
        return []
    try:
        top = parse_items(source, *bounds)
    except ValueError:
        return []
    spans: list[tuple[int, int]] = []
    for depth_first in top:
        for item in depth_first.walk():
            if item.deletable and item.kind != "block":
                spans.append(_whole_lines(source, item.start, item.end))
    # outer items before inner ones: deleting a nest at once is the biggest step
    return sorted(set(spans), key=lambda s: (s[0] - s[1], s[0]))


def _whole_lines(source: str, start: int, end: int) -> tuple[int, int]:
    """Extend a span to its whole lines when nothing else shares them (keeps the text tidy)."""
    line_start = source.rfind("\n", 0, start) + 1
    line_end = source.find("\n", end)
    line_end = len(source) if line_end < 0 else line_end + 1
    if source[line_start:start].strip() == "" and source[end:line_end].strip() == "":
        return line_start, line_end
    return start, end


def count_statements(source: str) -> int:
    """Simple statements in the region."""
    bounds = region_bounds(source)
    if bounds is None:
        return 0
    try:
        return sum(1 for top in parse_items(source, *bounds) for i in top.walk() if i.kind == "simple")
    except ValueError:
        return 0


def _simpler_steps(step: dict[str, Any]) -> list[dict[str, Any]]:
    """Variants of one step with smaller parameters."""
    out = []
    kind = step.get("kind")
    if kind == "tile":
        sizes = step["sizes"]
        if any(s != 8 for s in sizes):
            out.append({**step, "sizes": [8] * len(sizes)})
        if any(o != k for k, o in enumerate(step.get("order") or [])):
            out.append({**step, "order": []})
        if len(sizes) > 1:
            out.append({**step, "sizes": sizes[:-1], "order": []})
    elif kind == "unroll" and step["factor"] != 2:
        out.append({**step, "factor": 2})
    elif kind == "fuse" and step.get("shift"):
        out.append({**step, "shift": 0})
    elif kind == "shift" and abs(step["amount"]) > 1:
        out.append({**step, "amount": 1 if step["amount"] > 0 else -1})
    elif kind == "skew" and step["factor"] != 1:
        out.append({**step, "factor": 1})
    return out


class Reducer:
    """Greedy delta reduction of one failing case against an oracle (`call("evaluate", ...)`)."""

    def __init__(self, call: Call, *, budget: float = 300.0, runs: int = 5,
                 log: Callable[[str], None] | None = None, stop: Callable[[], bool] | None = None) -> None:
        self.call = call
        self.stop = stop or (lambda: False)  # asked to stop early (the run is interrupted)
        self.runs = runs  # a candidate fails if one of this many runs fails
        self.budget = budget
        self.log = log or (lambda msg: None)
        self.attempts = 0
        self.deadline = 0.0

    def reduce(self, case: Case, outcome: Outcome) -> Reduction:
        """The smallest variant of `case` found within the budget that fails like `outcome`."""
        started = time.monotonic()
        self.deadline = started + self.budget
        self.attempts = 0
        target = outcome.signature
        steps_before = len((outcome.schedule or case.schedule or {}).get("steps", []))
        statements_before = count_statements(case.source)
        best, best_outcome = case, outcome
        if case.mode not in ("schedule", "sample") and outcome.schedule is not None:
            # a search's failure: replay the schedule it chose, which is cheaper and reducible
            as_schedule = case.with_(mode="schedule", schedule=outcome.schedule)
            result = self._try(as_schedule, target)
            if result is not None:
                best, best_outcome = as_schedule, result
        changed = True
        while changed and not self._out_of_time():
            changed = False
            if best.mode == "schedule":
                best, best_outcome, c1 = self._reduce_steps(best, best_outcome, target)
                changed |= c1
            best, best_outcome, c2 = self._reduce_program(best, best_outcome, target)
            changed |= c2
        best, best_outcome, _ = self._reduce_sizes(best, best_outcome, target)
        steps_after = len((best.schedule or {}).get("steps", [])) if best.mode == "schedule" else steps_before
        return Reduction(best, best_outcome, self.attempts, time.monotonic() - started, steps_before, steps_after,
                         statements_before, count_statements(best.source))

    # --- the oracle -----------------------------------------------------------------------------
    def _out_of_time(self) -> bool:
        return time.monotonic() > self.deadline or self.stop()

    def _try(self, candidate: Case, target: tuple[str, str], *, sanitize: bool = False) -> Outcome | None:
        """The candidate's outcome if it fails with the target signature, else None."""
        if self._out_of_time():
            return None
        self.attempts += 1
        try:
            result: Outcome = self.call("evaluate", candidate, sanitize=sanitize, runs=self.runs)
        except WorkerLost as exc:  # the worker hung or died: that may be the failure being reduced
            result = exc.outcome
        except Exception:  # the oracle itself is gone (the run is stopping)
            return None
        if result.signature == target:
            return result
        return None

    # --- the transformation sequence ------------------------------------------------------------
    def _reduce_steps(self, case: Case, outcome: Outcome, target) -> tuple[Case, Outcome, bool]:
        changed = False
        steps = list((case.schedule or {}).get("steps", []))
        i = len(steps) - 1
        while i >= 0 and not self._out_of_time():  # last steps first: earlier steps name the loops of later ones
            candidate = _with_steps(case, steps[:i] + steps[i + 1 :])
            result = self._try(candidate, target)
            if result is not None:
                case, outcome, steps, changed = candidate, result, steps[:i] + steps[i + 1 :], True
                self.log(f"reduce: dropped step {i}: {len(steps)} steps left")
            i -= 1
        for i in range(len(steps)):
            for simpler in _simpler_steps(steps[i]):
                simplified = [*steps[:i], simpler, *steps[i + 1 :]]
                candidate = _with_steps(case, simplified)
                result = self._try(candidate, target)
                if result is not None:
                    case, outcome, changed = candidate, result, True
                    steps = list(simplified)
                    break
        return case, outcome, changed

    # --- the program text -----------------------------------------------------------------------
    def _reduce_program(self, case: Case, outcome: Outcome, target) -> tuple[Case, Outcome, bool]:
        changed = False
        progress = True
        while progress and not self._out_of_time():
            progress = False
            for start, end in deletions(case.source):
                source = case.source[:start] + case.source[end:]
                candidate = case.with_(source=source)
                if case.mode == "schedule":
                    try:
                        schedule = self.call("remap_schedule", case.source, source, case.defines, case.schedule)
                    except Exception:
                        schedule = None
                    if schedule is None:
                        continue
                    candidate = candidate.with_(schedule=schedule)
                result = self._try(candidate, target, sanitize=True)
                if result is not None:
                    case, outcome, changed, progress = candidate, result, True, True
                    self.log(f"reduce: deleted a statement: {count_statements(source)} left")
                    break  # the spans moved: compute them again
        return case, outcome, changed

    def _reduce_sizes(self, case: Case, outcome: Outcome, target) -> tuple[Case, Outcome, bool]:
        changed = False
        for name, _ in case.defines:
            value = dict(case.defines)[name]
            for smaller in sorted({1, 2, 3, value // 2, value - 1}):
                if not 1 <= smaller < value:
                    continue
                defines = tuple((k, smaller if k == name else v) for k, v in case.defines)
                candidate = case.with_(defines=defines)
                result = self._try(candidate, target, sanitize=True)
                if result is not None:
                    case, outcome, changed = candidate, result, True
                    self.log(f"reduce: {name}={smaller}")
                    break
        return case, outcome, changed


def _with_steps(case: Case, steps: list) -> Case:
    """The case with these transformation steps (a case with steps has a schedule)."""
    return case.with_(schedule={**(case.schedule or {}), "steps": steps})


def local_call(name: str, *args: Any, **kwargs: Any) -> Any:
    """Run a function of looper.fuzz.cases in this process (tests, and replaying reproducers)."""
    from looper.fuzz.cases import FUNCTIONS

    return FUNCTIONS[name](*args, **kwargs)


def standalone(case: Case) -> str:
    """The case's program with its size definitions written in (the file builds with no -D)."""
    defines = "".join(f"#define {k} {v}\n" for k, v in case.defines)
    return f"/* looper fuzz reproducer: sizes fixed below */\n{defines}{case.source}"


def describe(case: Case) -> dict[str, Any]:
    """JSON-ready description of a case (the reproducer's .json, minus the outcome)."""
    data = dataclasses.asdict(case)
    data.pop("source")
    data["defines"] = dict(case.defines)
    return data
