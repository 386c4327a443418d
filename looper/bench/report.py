"""Stored benchmark results as one JSON-able summary, a markdown report, and a bar chart."""

from __future__ import annotations

import datetime
import math
import os
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from looper.bench.configs import BASELINE, CONFIG_NAMES, Config, version
from looper.bench.runner import BLAS, blas_name
from looper.bench.store import FAILED, OK, REFERENCE, Key, Row, Store
from looper.measure import cpu_model
from polybench.dump import RTOL
from polybench.manifest import KERNELS

BUSY = 0.5  # mean other runnable tasks above which a report warns that the machine was busy
FLOOR = 0.01  # the plot's lowest speedup
X = "\u00d7"  # the multiplication sign, as in "1.25x" (written escaped: ruff flags the literal)


def _cell(row: Row, flops: float) -> dict[str, Any]:
    cell: dict[str, Any] = {"status": row.status, "message": row.message, "command": row.command,
                            "times": list(row.times), "run_id": row.run_id, "load": row.load}
    if row.status in (OK, REFERENCE) and row.times:
        median = statistics.median(row.times)
        cell.update(median=median, min=min(row.times), max=max(row.times), gflops=flops / median / 1e9)
        if row.baseline_times:
            cell["baseline_median"] = statistics.median(row.baseline_times)
            cell["speedup"] = cell["baseline_median"] / median
    return cell


def _order(names: Sequence[str], present: Sequence[str]) -> list[str]:
    known = [n for n in CONFIG_NAMES if n in names or n in present]
    return known + [n for n in [*names, *present] if n not in known and n != BLAS]


def summarize_size(rows: Sequence[Row], size: str, configs: Sequence[str]) -> dict[str, Any]:
    """Per kernel and configuration: times, speedup over the baseline, GFLOP/s; geometric means."""
    names = _order(configs, sorted({r.config for r in rows}))
    kernels: dict[str, Any] = {}
    for name, k in KERNELS.items():
        mine = [r for r in rows if r.kernel == name]
        if not mine:
            continue
        flops = k.flops(k.sizes(size))
        cells = {r.config: _cell(r, flops) for r in mine if r.config != BLAS}
        entry: dict[str, Any] = {"flops": flops, "configs": {n: cells[n] for n in names if n in cells}}
        loads = [c["load"] for c in entry["configs"].values() if c.get("load") is not None]
        entry["load"] = max(loads) if loads else None
        timed = {n: c for n, c in entry["configs"].items() if "speedup" in c}
        if timed:
            best = max(timed, key=lambda n: timed[n]["speedup"])
            entry["best"] = {"config": best, "speedup": timed[best]["speedup"], "gflops": timed[best]["gflops"]}
        blas = [r for r in mine if r.config == BLAS]
        if blas:
            k_params = k.sizes(size)
            matmul_flops = 2 * k_params["NI"] * k_params["NJ"] * k_params["NK"]
            entry["reference"] = _cell(blas[0], matmul_flops)
            entry["reference"]["flops"] = matmul_flops
        kernels[name] = entry
    geomeans: dict[str, Any] = {}
    for n in names:
        speedups = [e["configs"][n]["speedup"] for e in kernels.values() if "speedup" in e["configs"].get(n, {})]
        geomeans[n] = {
            "speedup": math.exp(sum(map(math.log, speedups)) / len(speedups)) if speedups else None,
            "kernels": len(speedups),
            "failed": [k for k, e in kernels.items() if e["configs"].get(n, {}).get("status") == FAILED],
            "errors": [k for k, e in kernels.items()
                       if e["configs"].get(n, {}).get("status") not in (None, OK, FAILED)],
        }
    loads = [e["load"] for e in kernels.values() if e["load"] is not None]
    return {"configs": names, "kernels": kernels, "geomean": geomeans,
            "load": sum(loads) / len(loads) if loads else None}


def collect(store: Store, key: Key, configs: Sequence[Config], skipped: Mapping[str, str], *,
            repeat: int, threads: int, verify_size: str, command: str = "") -> dict[str, Any]:
    """Everything known for this commit and machine: every stored size, with the environment."""
    sizes = [key.size, *sorted(s for s in store.sizes(key.commit, key.machine) if s != key.size)]
    gcc = next((c.cc for c in configs if c.name == BASELINE), "gcc")
    clang = next((c.cc for c in configs if c.name.startswith("polly")), "clang-16")
    names = [c.name for c in configs]
    data = {
        "commit": key.commit,
        "machine": key.machine,
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command,
        "compilers": {gcc: version(gcc), clang: version(clang)},
        "blas": blas_name(),
        "threads": threads,
        "repeat": repeat,
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


def seconds(s: float) -> str:
    """A duration with three significant digits and a readable unit."""
    if s < 1e-3:
        return f"{s * 1e6:.3g} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def _table_cell(cell: Mapping[str, Any] | None) -> str:
    if cell is None:
        return "—"
    if cell["status"] == FAILED:
        return "FAILED"
    if cell["status"] != OK:
        return cell["status"]
    if "speedup" not in cell:
        return seconds(cell["median"])
    return f"{seconds(cell['median'])} ({cell['speedup']:.2f}{X})"


def markdown(data: Mapping[str, Any]) -> str:
    """The report as markdown: environment, configurations, one table per size, failures."""
    out = ["# Benchmarks: looper against gcc, Graphite and Polly on PolyBench/C 4.2.1", ""]
    if data.get("command"):
        out += [f"Produced by `{data['command']}` on {data['date']}.", ""]
    out += ["| | |", "|---|---|", f"| commit | `{data['commit']}` |",
            f"| CPU | {data['cpu']}, {data['cores']} logical cores |"]
    out += [f"| {cc} | {v} |" for cc, v in data["compilers"].items()]
    out += [f"| NumPy BLAS | {data['blas']} |",
            f"| threads | `OMP_NUM_THREADS={data['threads']} OMP_WAIT_POLICY=passive` for every run |",
            f"| repetitions | {data['repeat']} runs per configuration, interleaved (run 1 of every configuration, "
            "then run 2, ...) |", ""]
    verify = data["verification"]
    out += ["Each cell is the median kernel time (PolyBench's timer, caches flushed before the timed region) and, in "
            f"parentheses, the speedup over `{data['baseline']}` measured in the same interleaved run. Before "
            f"timing, every configuration other than the baseline is built at {verify['size']} with array dumps "
            f"and compared with the baseline's output (relative tolerance {verify['rtol']['double']:g} for "
            f"double, {verify['rtol']['float']:g} for float, against each array's scale; integers exact): "
            "**FAILED** means wrong output (not timed), *error* that it could not be built or run, — not measured. "
            "Minimum and maximum times are in the JSON.", "", "## Configurations", "",
            "| name | command | what | |", "|---|---|---|---|"]
    for name, c in data["configurations"].items():
        evaluator = f" (evaluator: {c['evaluator']})" if c.get("evaluator") else ""
        out.append(f"| `{name}` | `{c['command']}` | {c['description']}{evaluator} | "
                   f"{'' if c['available'] else 'skipped: ' + c['note']} |")
    out.append("")
    for size, s in data["sizes"].items():
        out += _size_section(size, s)
    return "\n".join(out).rstrip() + "\n"


def _size_section(size: str, s: Mapping[str, Any]) -> list[str]:
    names = s["configs"]
    out = [f"## {size}", ""]
    if s["load"] is not None and s["load"] >= BUSY:
        out += [f"**The machine was busy while this was measured** (on average {s['load']:.1f} other tasks "
                "runnable, see the load column): other programs competed for the cores, which hurts parallel code "
                "most. Compare ratios with care.", ""]
    out += ["| kernel | " + " | ".join(f"`{n}`" for n in names) + " | best | GFLOP/s (best) | load |",
            "|---|" + "---:|" * len(names) + "---|---:|---:|"]
    for kernel, e in s["kernels"].items():
        best = e.get("best")
        load = f"{e['load']:.1f}" if e["load"] is not None else ""
        out.append(f"| {kernel} | " + " | ".join(_table_cell(e["configs"].get(n)) for n in names)
                   + (f" | `{best['config']}` | {best['gflops']:.2f}" if best else " | |") + f" | {load} |")
    gm = s["geomean"]
    out.append("| **geometric mean** | " + " | ".join(
        f"**{gm[n]['speedup']:.2f}{X}** ({gm[n]['kernels']})" if gm[n]["speedup"] else "—" for n in names)
        + " | | | |")
    out += ["", "Geometric mean of the speedups over the kernels where the configuration ran and verified "
            "(their number in parentheses). Load: other tasks runnable on the machine while the kernel was timed "
            "(mean of samples taken before each round; 0 = a quiet machine).", ""]
    gemm = s["kernels"].get("gemm", {})
    ref, best = gemm.get("reference"), gemm.get("best")
    if ref and "gflops" in ref:
        line = (f"Roofline reference, gemm: {ref['message']}: median {seconds(ref['median'])}, "
                f"**{ref['gflops']:.1f} GFLOP/s**")
        if best:
            line += (f"; the best PolyBench configuration (`{best['config']}`) reaches {best['gflops']:.2f} GFLOP/s "
                     f"({best['gflops'] / ref['gflops'] * 100:.0f}% of it)")
        out += [line + ".", ""]
    problems = [(k, n, c) for k, e in s["kernels"].items() for n, c in e["configs"].items() if c["status"] != OK]
    if problems:
        out += [f"Failures at {size}:", ""]
        out += [f"- `{n}` on {k}: {c['status']}: {c['message']}" for k, n, c in problems]
        out.append("")
    return out


def plot(data: Mapping[str, Any], size: str, path: str | Path) -> None:
    """A grouped bar chart of speedups over the baseline, one group per kernel, log-scale y."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    s = data["sizes"][size]
    names = [n for n in s["configs"] if n != data["baseline"]]
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
    ax.set_ylabel(f"speedup over {data['baseline']} (log scale)")
    ax.set_title(f"PolyBench {size}: speedup over gcc -O3 -march=native, commit {data['commit']}", fontsize=10)
    ax.set_ylim(bottom=FLOOR)
    note = "missing bar: failed verification or not run" + (f"; \u25bc: slower than {FLOOR:g}{X}" if clipped else "")
    ax.legend(fontsize=8, ncol=min(3, max(1, len(names))), loc="upper center", bbox_to_anchor=(0.5, -0.25),
              title=note, title_fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
