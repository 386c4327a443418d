"""Random affine loop nests: every statement's domain has as many points as the compiled C executes it.

The programs use what PolyBench does not: decreasing loops, min/max/floord/ceild and ternaries in
bounds, C division and remainder by constants (truncating), if/else with &&, ||, ! and !=.
"""

from __future__ import annotations

import random
import subprocess

import pytest

from frontend import FrontendError, read_scops
from tests.frontend_support import point_count

PROGRAMS = 40
PARAMS = [(0, 0), (1, 1), (5, 3), (7, 9), (12, 4)]  # (n, m)

PRELUDE = """\
#include <stdio.h>
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define floord(x, d) (((x) < 0) ? -((-(x) + (d) - 1) / (d)) : (x) / (d))
#define ceild(x, d) (((x) < 0) ? -((-(x)) / (d)) : ((x) + (d) - 1) / (d))
long C[64];
"""


class _Gen:
    """A small random generator of affine C (deterministic per seed)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.stmts = 0

    def linear(self, names: list[str]) -> str:
        r = self.rng
        terms = [f"{r.choice([1, 1, 2, -1])} * {v}" for v in names if r.random() < 0.5]
        terms.append(str(r.randint(-3, 3)))
        return " + ".join(terms).replace("+ -", "- ")

    def affine(self, names: list[str], depth: int = 0) -> str:
        r = self.rng
        base = self.linear(names)
        if depth > 1:
            return base
        kind = r.choice(["plain", "plain", "min", "max", "floord", "ceild", "div", "mod", "ternary"])
        if kind in ("min", "max"):
            return f"{kind}({base}, {self.affine(names, depth + 1)})"
        if kind in ("floord", "ceild"):
            return f"{kind}({base}, {r.randint(1, 3)})"
        if kind == "div":
            return f"({base}) / {r.choice([2, 3, -2])}"
        if kind == "mod":
            return f"({base}) % 3 + {self.linear(names)}"
        if kind == "ternary":
            return f"({self.linear(names)} > {self.linear(names)} ? {base} : {self.linear(names)})"
        return base

    def cond(self, names: list[str], depth: int = 0) -> str:
        r = self.rng
        simple = f"{self.affine(names, 1)} {r.choice(['<', '<=', '>', '>=', '==', '!='])} {self.linear(names)}"
        if depth > 1 or r.random() < 0.5:
            return simple
        op = r.choice(["&&", "||", "!"])
        if op == "!":
            return f"!({self.cond(names, depth + 1)})"
        return f"({simple}) {op} ({self.cond(names, depth + 1)})"

    def block(self, iters: list[str], depth: int, indent: str, ifs: int = 0) -> list[str]:
        r = self.rng
        out: list[str] = []
        for _ in range(r.randint(1, 3)):
            choice = r.random()
            if depth < 3 and choice < 0.45:
                it = f"i{depth}"
                names = [*iters, "n", "m"]
                lo, hi = self.affine(names), self.affine(names)
                if r.random() < 0.7:
                    cond = f"{it} {r.choice(['<', '<='])} {hi}"
                    if r.random() < 0.3:
                        cond += f" && {it} < {self.linear(names)}"
                    out.append(f"{indent}for ({it} = {lo}; {cond}; {r.choice([it + '++', '++' + it, it + ' += 1'])})")
                else:
                    cond = f"{it} {r.choice(['>', '>='])} {lo}"
                    out.append(f"{indent}for ({it} = {hi}; {cond}; {r.choice([it + '--', it + ' -= 1'])})")
                out.append(indent + "{")
                out += self.block([*iters, it], depth + 1, indent + "  ")
                out.append(indent + "}")
            elif choice < 0.65 and iters and ifs < 2:
                names = [*iters, "n", "m"]
                out.append(f"{indent}if ({self.cond(names)}) {{")
                out += self.block(iters, depth, indent + "  ", ifs + 1)
                out.append(indent + "}")
                if r.random() < 0.5:
                    out.append(indent + "else {")
                    out += self.block(iters, depth, indent + "  ", ifs + 1)
                    out.append(indent + "}")
            else:
                out.append(f"{indent}C[{self.stmts}] += 1;")
                self.stmts += 1
        return out


def _programs() -> list[tuple[str, int]]:
    out = []
    for seed in range(PROGRAMS):
        g = _Gen(seed)
        body = g.block([], 0, "  ")
        out.append(("\n".join(body), g.stmts))
    return out


def test_random_nests_count_like_c(tmp_path) -> None:
    programs = [(b, n) for b, n in _programs() if n <= 64]
    parts = [PRELUDE]
    for k, (body, _n) in enumerate(programs):
        parts.append(f"void p{k}(int n, int m) {{\n  int i0, i1, i2;\n#pragma scop\n{body}\n#pragma endscop\n}}\n")
    calls = "\n".join(
        f"  for (int k = 0; k < 64; k++) C[k] = 0;\n  p{k}({n}, {m});\n"
        f'  printf("P{k} {n} {m}"); for (int k = 0; k < {cnt}; k++) printf(" %ld", C[k]); printf("\\n");'
        for k, (_b, cnt) in enumerate(programs)
        for n, m in PARAMS
    )
    parts.append(f"int main(void) {{\n{calls}\n  return 0;\n}}\n")
    text = "".join(parts)
    src = tmp_path / "random.c"
    src.write_text(text)
    exe = tmp_path / "random"
    done = subprocess.run(["gcc", "-O0", "-w", str(src), "-o", str(exe)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
    got = {tuple(line.split()[:3]): [int(x) for x in line.split()[3:]] for line in lines}
    scops = read_scops(text)
    assert len(scops) == len(programs)
    nonzero = 0
    for k, scop in enumerate(scops):
        assert not isinstance(scop, FrontendError), f"program {k}: {scop}"
        for n, m in PARAMS:
            values = {p: {"n": n, "m": m}[p] for p in scop.params}
            expected = [0] * programs[k][1]
            for s in scop.statements:
                index = int(s.body.target.indices[0].text)
                expected[index] = point_count(s.domain, values)
            assert got[(f"P{k}", str(n), str(m))] == expected, f"program {k} at n={n}, m={m}:\n{programs[k][0]}"
            nonzero += sum(1 for c in expected if c)
    assert nonzero > 100  # the programs really execute their statements


@pytest.mark.parametrize("seed", [0, 1])
def test_generator_is_deterministic(seed: int) -> None:
    a, b = _Gen(seed), _Gen(seed)
    assert a.block([], 0, "") == b.block([], 0, "")
