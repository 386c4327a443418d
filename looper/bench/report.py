"""Benchmark results: one run as a JSON-able summary; runs combined into the report (method and
current tables, as markdown) and bar charts."""

from __future__ import annotations

import datetime
import math
import os
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from codegen.harness import DESCRIPTIONS, STATISTIC, cpu_model, summarize
from looper.bench.configs import BASELINE, CONFIG_NAMES, Config, version
from looper.bench.runner import BLAS, blas_name
from looper.bench.store import FAILED, OK, REFERENCE, Key, Row, Store
from polybench.dump import RTOL
from polybench.manifest import KERNELS, SIZES

BUSY = 0.5  # mean other runnable tasks above which a report warns that a run's machine was busy
FLOOR = 0.01  # the plot's lowest speedup
X = "\u00d7"  # the multiplication sign, as in "1.25x" (written escaped: ruff flags the literal)


# One run: the stored rows of one commit and machine, as a summary (what `--json` writes).


def _cell(row: Row, flops: float) -> dict[str, Any]:
    cell: dict[str, Any] = {"status": row.status, "message": row.message, "command": row.command,
                            "times": list(row.times), "run_id": row.run_id, "load": row.load}
    if row.status in (OK, REFERENCE) and row.times:
        value = summarize(row.times)
        cell.update(seconds=value, median=statistics.median(row.times), min=min(row.times), max=max(row.times),
                    gflops=flops / value / 1e9)
        if row.baseline_times:
            cell["baseline_seconds"] = summarize(row.baseline_times)
            cell["speedup"] = cell["baseline_seconds"] / value
    return cell


def _seconds(cell: Mapping[str, Any]) -> float:
    """A cell's time under its run's statistic (runs written before the statistic was recorded: the median)."""
    return cell.get("seconds", cell["median"])


def _statistic(run: Mapping[str, Any]) -> str:
    """The statistic of a run's cells (runs written before it was recorded: the median)."""
    return run.get("statistic", "median")


def _order(names: Sequence[str]) -> list[str]:
    """Configuration names, known ones in their canonical order, then the others as given."""
    known = [n for n in CONFIG_NAMES if n in names]
    return known + [n for n in dict.fromkeys(names) if n not in known and n != BLAS]


def _finish(kernels: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """Per kernel its best configuration and load; per configuration the geometric mean speedup."""
    for entry in kernels.values():
        loads = [c["load"] for c in entry["configs"].values() if c.get("load") is not None]
        entry["load"] = max(loads) if loads else None
        timed = {n: c for n, c in entry["configs"].items() if "speedup" in c}
        entry.pop("best", None)
        if timed:
            best = max(timed, key=lambda n: timed[n]["speedup"])
            entry["best"] = {"config": best, "speedup": timed[best]["speedup"], "gflops": timed[best]["gflops"]}
    geomeans: dict[str, Any] = {}
    for n in names:
        cells = [e["configs"].get(n, {}) for e in kernels.values()]
        speedups = [c["speedup"] for c in cells if "speedup" in c]
        geomeans[n] = {
            "speedup": math.exp(sum(map(math.log, speedups)) / len(speedups)) if speedups else None,
            "kernels": len(speedups),
            "failed": [k for k, e in kernels.items() if e["configs"].get(n, {}).get("status") == FAILED],
            "errors": [k for k, e in kernels.items()
                       if e["configs"].get(n, {}).get("status") not in (None, OK, FAILED)],
        }
    loads = [e["load"] for e in kernels.values() if e["load"] is not None]
    return {"configs": list(names), "kernels": kernels, "geomean": geomeans,
            "load": sum(loads) / len(loads) if loads else None}


def summarize_size(rows: Sequence[Row], size: str, configs: Sequence[str]) -> dict[str, Any]:
    """Per kernel and configuration: times, speedup over the baseline, GFLOP/s; geometric means."""
    names = _order([*configs, *sorted({r.config for r in rows})])
    kernels: dict[str, Any] = {}
    for name, k in KERNELS.items():
        mine = [r for r in rows if r.kernel == name]
        if not mine:
            continue
        flops = k.flops(k.sizes(size))
        cells = {r.config: _cell(r, flops) for r in mine if r.config != BLAS}
        kernels[name] = {"flops": flops, "configs": {n: cells[n] for n in names if n in cells}}
        blas = [r for r in mine if r.config == BLAS]
        if blas:
            p = k.sizes(size)
            matmul_flops = 2 * p["NI"] * p["NJ"] * p["NK"]
            kernels[name]["reference"] = {**_cell(blas[0], matmul_flops), "flops": matmul_flops}
    return _finish(kernels, names)


def collect(store: Store, key: Key, configs: Sequence[Config], skipped: Mapping[str, str], *,
            repeat: int, threads: int, verify_size: str, command: str = "", note: str = "") -> dict[str, Any]:
    """Everything known for this commit and machine: every stored size, with the environment."""
    sizes = [key.size, *sorted(s for s in store.sizes(key.commit, key.machine) if s != key.size)]
    gcc = next((c.cc for c in configs if c.name == BASELINE), "gcc")
    clang = next((c.cc for c in configs if c.name.startswith("polly")), "clang-16")
    names = [c.name for c in configs]
    data: dict[str, Any] = {
        "commit": key.commit,
        "machine": key.machine,
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command,
        "note": note,
        "compilers": {gcc: version(gcc), clang: version(clang)},
        "blas": blas_name(),
        "threads": threads,
        "repeat": repeat,
        "statistic": STATISTIC,
        "verification": {"size": verify_size, "rtol": dict(RTOL)},
        "baseline": BASELINE,
        "configurations": {c.name: {"command": c.command(), "description": c.description,
                                    "available": c.name not in skipped, "note": skipped.get(c.name, "")}
                           for c in configs},
        "sizes": {s: summarize_size(store.rows(Key(key.commit, key.machine, s)), s, names) for s in sizes},
    }
    for size in data["sizes"].values():  # which evaluator looper's model search used (see runner._variant_source)
        for entry in size["kernels"].values():
            for name, cell in entry["configs"].items():
                message = cell["message"]
                if name in data["configurations"] and message.startswith("optimized in") and message.endswith(")"):
                    data["configurations"][name]["evaluator"] = message.rsplit("(", 1)[1][:-1]
    return data


# Several runs: the report's tables.


def combine(runs: Sequence[Mapping[str, Any]], configs: Sequence[str] | None = None) -> dict[str, Any]:
    """The report's data: per size, each configuration's column from the latest run that measured it
    (`configs`: only these columns, the baseline always); the runs, oldest first, and the latest run's
    environment."""
    runs = sorted(runs, key=lambda r: datetime.datetime.fromisoformat(r["date"]))
    if not runs:
        raise ValueError("no benchmark results to report")
    wanted = None if configs is None else {BASELINE, *configs}
    latest = runs[-1]
    sizes: dict[str, Any] = {}
    source: dict[str, dict[str, int]] = {}
    for index, run in enumerate(runs):
        for size, s in run["sizes"].items():
            for name in s["configs"]:
                if (wanted is None or name in wanted) and any(name in e["configs"] for e in s["kernels"].values()):
                    source.setdefault(size, {})[name] = index  # a later run replaces an earlier one's column
    for size in sorted(source, key=lambda s: SIZES.index(s) if s in SIZES else len(SIZES)):
        names = _order(list(source[size]))
        kernels: dict[str, Any] = {}
        for kernel in KERNELS:
            cells = {n: runs[source[size][n]]["sizes"][size]["kernels"].get(kernel, {}).get("configs", {}).get(n)
                     for n in names}
            cells = {n: c for n, c in cells.items() if c is not None}
            if cells:
                kernels[kernel] = {"configs": cells}
                base_run = runs[source[size].get(BASELINE, len(runs) - 1)]["sizes"][size]["kernels"].get(kernel, {})
                if "reference" in base_run:
                    kernels[kernel]["reference"] = base_run["reference"]
        sizes[size] = {**_finish(kernels, names), "source": {n: source[size][n] for n in names}}
    configurations: dict[str, Any] = {}
    for run in runs:
        configurations.update(run["configurations"])
    shown = {n for s in sizes.values() for n in s["configs"]}
    # A configuration is listed if it has a column, or was asked for and skipped (with the reason).
    listed = [n for n in _order(list(configurations))
              if n in shown or ((wanted is None or n in wanted) and not configurations[n]["available"])]
    return {
        "runs": [{k: run.get(k) for k in ("date", "machine", "commit", "command", "note")}
                 | {"statistic": _statistic(run)}
                 | {"sizes": {size: {"configs": [n for n, i in source.get(size, {}).items() if i == index],
                                     "load": s.get("load")}
                              for size, s in run["sizes"].items()}}
                 for index, run in enumerate(runs)],
        **{k: latest[k] for k in ("cpu", "cores", "compilers", "blas", "threads", "repeat", "verification",
                                  "baseline")},
        "configurations": {n: configurations[n] for n in listed},
        "sizes": sizes,
    }


def seconds(s: float) -> str:
    """A duration with three significant digits and a readable unit."""
    if s < 1e-3:
        return f"{s * 1e6:.3g} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def _when(run: Mapping[str, Any]) -> str:
    return datetime.datetime.fromisoformat(run["date"]).astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def markdown(report: Mapping[str, Any], *, command: str = "", plots: Mapping[str, str] | None = None) -> str:
    """The whole report: summary, method, configurations, runs, then one table per size."""
    out = ["# Benchmarks: looper against gcc, Graphite and Polly on PolyBench/C 4.2.1", ""]
    if command:
        out += [f"Written by `{command}` (`looper bench --help`). It replaces this file; the history of "
                "earlier runs is in CHANGELOG.md.", ""]
    out += _summary(report) + _method(report) + _configurations(report) + _runs(report)
    for size, s in report["sizes"].items():
        out += _size_section(report, size, s, (plots or {}).get(size))
    return "\n".join(out).rstrip() + "\n"


def _summary(report: Mapping[str, Any]) -> list[str]:
    sizes = list(report["sizes"])
    out = ["## Summary", "", "Geometric mean over the kernels of each configuration's speedup over "
           f"`{report['baseline']}` measured in the same run (kernels counted in parentheses; run numbers as "
           "in [Runs](#runs)).", "",
           "| configuration | " + " | ".join(sizes) + " |", "|---|" + "---:|" * len(sizes)]
    for name in report["configurations"]:
        cells = []
        for size in sizes:
            s = report["sizes"][size]
            g = s["geomean"].get(name)
            cells.append(f"{g['speedup']:.2f}{X} ({g['kernels']}; run {s['source'][name] + 1})"
                         if g and g["speedup"] else "—")
        out.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return [*out, ""]


def _statistics_text(report: Mapping[str, Any]) -> str:
    """Which statistic summarizes a cell's runs, per run when the runs differ."""
    used = [_statistic(run) for run in report["runs"]]
    if len(set(used)) == 1:
        return f"the {DESCRIPTIONS.get(used[0], used[0])} of its runs"
    return "the " + ", the ".join(f"{DESCRIPTIONS.get(u, u)} of its runs in run {i + 1}" for i, u in enumerate(used))


def _method(report: Mapping[str, Any]) -> list[str]:
    verify, threads = report["verification"], report["threads"]
    return [
        "## Method", "",
        "- **Kernels and timer.** The 30 kernels of PolyBench/C 4.2.1 (`polybench/`), arrays page-aligned as "
        "PolyBench's allocator does, caches flushed before the timed region. The peers' whole programs run "
        "as processes, timed by PolyBench's timer; looper's configurations are built with the original "
        "kernel into one library and timed in a worker process (codegen.harness), each speedup against that "
        "library's original, timed in the same rounds.",
        f"- **Interleaved rounds, one statistic.** For one kernel, every configuration is built first; then "
        f"round 1 runs each configuration once, round 2 again, ..., {report['repeat']} rounds (a configuration "
        "over 2x the best after two rounds stops; one within 10% of the best gets up to twice as many). "
        f"A cell is {_statistics_text(report)}; the median, minimum, maximum and every time are in the JSON.",
        f"- **Baseline in the same run.** A speedup is the time of `{report['baseline']}` (the original "
        "source, `gcc -O3 -march=native`) divided by the configuration's, both from the same "
        "interleaved rounds, so a slow moment of the machine affects both. Columns of different runs each "
        "have their own baseline.",
        f"- **OpenMP.** Every run has `OMP_NUM_THREADS={threads} OMP_WAIT_POLICY=passive`: on this 2-vCPU "
        "virtual machine spinning OpenMP threads made repeated runs of one binary vary up to 3x, sleeping "
        "ones were steady. looper's outputs and `polly-parallel` are built with OpenMP; so is every timing "
        "looper takes elsewhere (`--search measure`, `looper dataset generate`).",
        f"- **Verification.** Before timing, every configuration is built at {verify['size']} with array "
        "dumps, run, and compared with the baseline's output (relative tolerance "
        f"{verify['rtol']['double']:g} for double, {verify['rtol']['float']:g} for float, against each "
        "array's scale; integers exact). **FAILED**: wrong output, not timed; *error*: could not be built "
        "or run; —: not measured.",
        "- **Load.** The number of other runnable tasks is sampled before each round; a run's mean is in "
        "[Runs](#runs). A busy machine hurts parallel code most (`--max-load`, `--remeasure-busy`).",
        "- **Peers.** gcc's Graphite and LLVM Polly (clang-16) on the original source; looper's output "
        "built with gcc. A configuration whose compiler is missing is skipped with a note.",
        "- **Geometric mean** over the kernels where the configuration ran and verified.",
        "",
        "| machine of the latest run (each run's: [Runs](#runs)) | |", "|---|---|",
        f"| CPU | {report['cpu']}, {report['cores']} logical cores |",
        *[f"| {cc} | {v} |" for cc, v in report["compilers"].items()],
        f"| NumPy BLAS (gemm's roofline reference) | {report['blas']} |", "",
    ]


def _configurations(report: Mapping[str, Any]) -> list[str]:
    out = ["## Configurations", "", "| name | compiler command | what | |", "|---|---|---|---|"]
    for name, c in report["configurations"].items():
        evaluator = f" (evaluator: {c['evaluator']})" if c.get("evaluator") else ""
        out.append(f"| `{name}` | `{c['command']}` | {c['description']}{evaluator} | "
                   f"{'' if c['available'] else 'skipped: ' + c['note']} |")
    return [*out, ""]


def _runs(report: Mapping[str, Any]) -> list[str]:
    out = ["## Runs", "", "| run | written | machine | commit | columns taken from it | mean load | command |",
           "|---|---|---|---|---|---:|---|"]
    notes = []
    for index, run in enumerate(report["runs"], 1):
        used = "; ".join(f"{size}: {', '.join(f'`{n}`' for n in s['configs'])}"
                         for size, s in run["sizes"].items() if s["configs"]) or "none"
        loads = [s["load"] for s in run["sizes"].values() if s["load"] is not None]
        load = f"{max(loads):.2f}" + (" (busy)" if max(loads) >= BUSY else "") if loads else ""
        out.append(f"| {index} | {_when(run)} | {run.get('machine', '')} | `{run['commit']}` | {used} | {load} | "
                   f"`{run['command']}` |")
        if run.get("note"):
            notes.append(f"- Run {index}: {run['note']}")
    return [*out, "", *notes, *([""] if notes else [])]


def _table_cell(cell: Mapping[str, Any] | None, time: bool = True) -> str:
    if cell is None:
        return "—"
    if cell["status"] == FAILED:
        return "FAILED"
    if cell["status"] != OK:
        return cell["status"]
    if "speedup" not in cell:
        return seconds(_seconds(cell))
    return f"{seconds(_seconds(cell))} ({cell['speedup']:.2f}{X})" if time else f"{cell['speedup']:.2f}{X}"


def _size_section(report: Mapping[str, Any], size: str, s: Mapping[str, Any], plot_path: str | None) -> list[str]:
    names = s["configs"]
    runs = sorted(set(s["source"].values()))
    # Times of different runs do not compare (each run has its own baseline): with several runs, the
    # baseline's time and every column's speedup.
    times = {n: len(runs) == 1 or n == report["baseline"] for n in names}
    out = [f"## {size}", ""]
    if plot_path:
        out += [f"![speedups over {report['baseline']} at {size}]({plot_path})", ""]
    out += ["| kernel | " + " | ".join(f"`{n}`" for n in names) + " | best | GFLOP/s (best) |",
            "|---|" + "---:|" * len(names) + "---|---:|"]
    for kernel, e in s["kernels"].items():
        best = e.get("best")
        out.append(f"| {kernel} | " + " | ".join(_table_cell(e["configs"].get(n), times[n]) for n in names)
                   + (f" | `{best['config']}` | {best['gflops']:.2f} |" if best else " | | |"))
    gm = s["geomean"]
    out.append("| **geometric mean** | " + " | ".join(
        f"**{gm[n]['speedup']:.2f}{X}** ({gm[n]['kernels']})" if gm[n]["speedup"] else "—" for n in names) + " | | |")
    out += ["", ("Kernel time and, in parentheses, the speedup over the baseline of the same run. "
             if len(runs) == 1 else f"The speedup over `{report['baseline']}` in the same run (`{report['baseline']}`: "
             "its kernel time; every time is in the runs' JSON). ")
            + ("Columns by run: " + "; ".join(
                f"run {i + 1} ({_when(report['runs'][i])}): "
                + ", ".join(f"`{n}`" for n in names if s["source"][n] == i) for i in runs) + "."
               if len(runs) > 1 else f"All columns: run {runs[0] + 1}."), ""]
    gemm = s["kernels"].get("gemm", {})
    ref, best = gemm.get("reference"), gemm.get("best")
    if ref and "gflops" in ref:
        line = (f"Roofline reference, gemm: {ref['message']}: {seconds(_seconds(ref))}, "
                f"**{ref['gflops']:.1f} GFLOP/s**")
        if best:
            line += (f"; the best PolyBench configuration (`{best['config']}`) reaches {best['gflops']:.2f} GFLOP/s "
                     f"({best['gflops'] / ref['gflops'] * 100:.0f}% of it)")
        out += [line + ".", ""]
    problems = [(k, n, c) for k, e in s["kernels"].items() for n, c in e["configs"].items() if c["status"] != OK]
    if problems:
        out += [f"Failures at {size}:", "", *[f"- `{n}` on {k}: {c['status']}: {c['message']}" for k, n, c in problems],
                ""]
    return out


def plot(report: Mapping[str, Any], size: str, path: str | Path) -> None:
    """A grouped bar chart of speedups over the baseline, one group per kernel, log-scale y."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    s = report["sizes"][size]
    names = [n for n in s["configs"] if n != report["baseline"]]
    kernels = list(s["kernels"])
    width = 0.8 / max(len(names), 1)
    fig, ax = plt.subplots(figsize=(max(8.0, 0.5 * len(kernels) + 2), 6.0))
    clipped = False
    for i, n in enumerate(names):
        xs, ys = [], []
        for j, k in enumerate(kernels):
            cell = s["kernels"][k]["configs"].get(n, {})
            if "speedup" in cell:
                xs.append(j - 0.4 + width * (i + 0.5))
                ys.append(cell["speedup"])
        gm = s["geomean"][n]["speedup"]
        # Bars grow from 1x: up for a speedup, down for a slowdown; slowdowns beyond FLOOR are cut there.
        ax.bar(xs, [max(y, FLOOR) - 1 for y in ys], width, bottom=1.0,
               label=f"{n} (geomean {gm:.2f}{X})" if gm else n)
        cut = [x for x, y in zip(xs, ys, strict=True) if y < FLOOR]
        if cut:
            clipped = True
            ax.plot(cut, [FLOOR * 1.3] * len(cut), "v", color="black", markersize=3)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}{X}"))
    ax.set_xticks(range(len(kernels)))
    ax.set_xticklabels(kernels, rotation=60, ha="right", fontsize=8)
    ax.set_xlim(-0.6, len(kernels) - 0.4)
    ax.set_ylabel(f"speedup over {report['baseline']} (log scale)")
    runs = ", ".join(f"{report['runs'][i]['commit']} ({_when(report['runs'][i])[:10]})"
                     for i in sorted(set(s["source"].values())))
    ax.set_title(f"PolyBench {size}: speedup over gcc -O3 -march=native; runs {runs}", fontsize=10)
    ax.set_ylim(bottom=FLOOR)
    note = "missing bar: failed verification or not run" + (f"; \u25bc: slower than {FLOOR:g}{X}" if clipped else "")
    ax.legend(fontsize=8, ncol=min(3, max(1, len(names))), loc="upper center", bbox_to_anchor=(0.5, -0.25),
              title=note, title_fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
