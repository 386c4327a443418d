"""The exact integer programming and linear algebra under the Pluto-class scheduler."""

from __future__ import annotations

from fractions import Fraction

import islpy as isl
import numpy as np
import pytest

from looper import ilp
from looper.linalg import fraction, integer_multiple, orthogonal, rank


def _rows(a: list[list[int]], b: list[int], eq: list[bool]) -> ilp.Rows:
    return ilp.Rows(np.array(a, dtype=np.int64), np.array(b, dtype=np.int64), np.array(eq, dtype=bool))


def test_the_ilp_constraint_set_is_the_one_its_text_describes() -> None:
    inequalities = (((1, 0, -2), 3), ((0, 1, 1), 0), ((-1, -1, 0), 10), ((0, 0, 1), -1))
    equalities = ((1, -1, 0, 0),)
    built = ilp._basic_set(inequalities, equalities, 3)
    text = isl.BasicSet("{ [v0, v1, v2] : v0 - 2*v2 + 3 >= 0 and v1 + v2 >= 0 and -v0 - v1 + 10 >= 0"
                        " and v2 - 1 >= 0 and v0 - v1 = 0 }")
    assert built.is_equal(text)
    assert ilp._solve(inequalities, equalities, 3) == (-1, -1, 1)  # v0 >= 2*v2 - 3, v2 >= 1
    assert ilp._basic_set((), (), 2).is_equal(isl.BasicSet("{ [v0, v1] }"))


def test_lexmin_is_exact_on_repeated_and_scaled_rows() -> None:
    # 2 v0 - 4 >= 0, 3 v0 - 7 >= 0 (v0 >= 7/3, so 3 for integers), v1 - v0 >= 0, the first row twice.
    rows = _rows([[2, 0], [3, 0], [-1, 1], [2, 0]], [-4, -7, 0, -4], [False] * 4)
    assert ilp.lexmin(rows, 2) == (3, 3)
    assert ilp.lexmin(_rows([[1], [-1]], [-1, 0], [False, False]), 1) is None  # v0 >= 1 and v0 <= 0
    assert ilp.lexmin(_rows([[2]], [-1], [True]), 1) is None  # 2 v0 = 1 has no integer solution


def test_farkas_rows_hold_exactly_the_forms_nonnegative_on_the_relation() -> None:
    relation = isl.Map("[N] -> { S[i] -> T[j] : j = i + 1 and 0 <= i < N }")
    rows = ilp.farkas(relation)

    def holds(form: list[int]) -> bool:  # (constant, N, i, j)
        v = np.array(form, dtype=np.int64)
        values = rows.a @ v + rows.b
        return bool(np.all(values[~rows.eq] >= 0) and np.all(values[rows.eq] == 0))

    assert holds([-1, 0, -1, 1])  # j - i - 1 = 0 on the relation
    assert holds([0, 1, -1, 0])  # N - i > 0
    assert not holds([0, 0, 1, -1])  # i - j = -1
    assert not holds([0, 0, -1, 0])  # -i < 0 for i > 0


def test_rank_and_null_space_are_exact() -> None:
    assert rank([(1, 2, 3), (2, 4, 6), (0, 1, 1)]) == 2
    assert rank([]) == 0
    assert integer_multiple([Fraction(1, 2), Fraction(-2, 3), Fraction(0)]) == [3, -4, 0]
    basis = orthogonal([(1, 2, 3), (0, 1, 1)], 3)
    assert basis == [[1, 1, -1]]
    assert orthogonal([], 2) == [[1, 0], [0, 1]]
    for v in orthogonal([(2, 0, 1, 0)], 4):
        assert 2 * v[0] + v[2] == 0 and next(x for x in v if x) > 0


def test_isl_values_become_exact_fractions() -> None:
    ctx = isl.Context()
    assert fraction(isl.Val("-7/3", ctx)) == Fraction(-7, 3)
    assert fraction(isl.Val("5", ctx)) == 5
    big = 3**60 + 1  # beyond a 64-bit numerator
    assert fraction(isl.Val(f"{big}/2", ctx)) == Fraction(big, 2)
    with pytest.raises(ValueError):
        fraction(isl.Val.infty(ctx))
