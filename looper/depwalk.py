"""Dependences walked through a schedule's dimensions, each step cached for every schedule of a search.

A dependence (pairs of statement instances, source -> sink) respects a schedule when each pair's
source time precedes its sink time lexicographically. Walking the schedule dimensions in order,
the pairs whose times are equal so far shrink: at a dimension, those whose source row exceeds the
sink row violate the schedule, those with equal rows go on to the next dimension, the others are
satisfied. One step depends only on the pairs so far and on the two rows, so the walk is a tree
whose edges are keyed by the rows' texts, shared by every schedule of one search: a candidate
differs from its parent in the rows one step changed, and every step before them is a dictionary
lookup. The walk never builds the schedules' time maps, whose order relation a direct comparison
must subtract.

Every answer is exact: an isl emptiness test, or implied by one made for a superset of the pairs.
Below a tile row, a node's pairs are a subset of its twin's, the pairs reached by the same steps
without the tile rows (equal points are in equal tiles); and as `floor(a / s) > floor(b / s)`
implies `a > b`, a tile row is answered by the row it tiles, on the twin's pairs. Twins are shared
by the candidates of a tiling level, which differ only in tile sizes: the band's rows are compared
once instead of once per size, and only where that says nothing is the tiled set tested itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import islpy as isl

from looper.schedule import row_facts, tile_source

Node = int  # a set of dependence pairs: a dependence (a root) or the pairs a step kept


class DependenceWalk:
    """The step tree over a fixed list of dependence relations (roots 0 .. len(maps) - 1)."""

    def __init__(self, maps: Sequence[isl.Map]) -> None:
        self.maps = list(maps)
        n = len(self.maps)
        self._edges: dict[tuple[Node, str, str], Node] = {}
        self._parent: list[Node] = list(range(n))
        self._rows: list[tuple[isl.Aff, isl.Aff] | None] = [None] * n
        self._consts: list[tuple[int | None, int | None]] = [(None, None)] * n
        # For a step on two tile rows of one size: the rows they tile.
        self._tiles: list[tuple[isl.Aff, isl.Aff] | None] = [None] * n
        self._under: list[bool] = [False] * n  # a tile step on the way from the root (its own included)
        self._twin: list[Node] = list(range(n))  # -1: not computed yet
        self._pairs: list[isl.Map | None] = list(self.maps)
        self._empty: list[bool | None] = [None] * n
        self._later: list[bool | None] = [False] * n  # a root has no step: nothing violated
        self._earlier: list[bool | None] = [False] * n
        # Whole answers (a dependence respected by two statements' rows, a band permutable, a loop
        # carrying a dependence), by the texts of the rows they depend on.
        self.answers: dict[tuple, Any] = {}
        self.tests = 0  # isl emptiness tests made so far

    def __len__(self) -> int:
        """How many nodes the tree holds (roots included)."""
        return len(self._parent)

    def step(self, node: Node, source_row: isl.Aff, sink_row: isl.Aff) -> Node:
        """The child of `node` whose pairs have equal values of the two rows (computed when asked)."""
        (a, ca), (b, cb) = row_facts(source_row), row_facts(sink_row)
        key = (node, a, b)
        child = self._edges.get(key)
        if child is None:
            child = self._edges[key] = len(self._parent)
            ta, tb = tile_source(source_row), tile_source(sink_row)
            tiles = (ta[0], tb[0]) if ta is not None and tb is not None and ta[1] == tb[1] else None
            self._parent.append(node)
            self._rows.append((source_row, sink_row))
            self._consts.append((ca, cb))
            self._tiles.append(tiles)
            self._under.append(self._under[node] or tiles is not None)
            self._twin.append(-1)
            self._pairs.append(None)
            self._empty.append(None)
            self._later.append(None)
            self._earlier.append(None)
        return child

    def twin(self, node: Node) -> Node:
        """The node reached by the same steps but those on tile rows: a superset of the node's pairs."""
        twin = self._twin[node]
        if twin < 0:
            parent = self._parent[node]
            if self._tiles[node] is not None:
                twin = self.twin(parent)
            elif not self._under[node]:
                twin = node
            else:
                source, sink = self._rows[node]  # type: ignore[misc]
                twin = self.step(self.twin(parent), source, sink)
            self._twin[node] = twin
        return twin

    def pairs(self, node: Node) -> isl.Map:
        """The node's dependence pairs: those of its parent with equal rows."""
        pairs = self._pairs[node]
        if pairs is None:
            parent = self.pairs(self._parent[node])
            ca, cb = self._consts[node]
            if ca is not None and cb is not None:
                pairs = parent if ca == cb else isl.Map.empty(parent.get_space())
            else:
                source, sink = self._rows[node]  # type: ignore[misc]
                pairs = parent.intersect(isl.PwAff.from_aff(source).eq_map(isl.PwAff.from_aff(sink)))
            self._pairs[node] = pairs
        return pairs

    def is_empty(self, node: Node) -> bool:
        """Whether no pair reaches the node (every pair of its parent is decided at its step)."""
        empty = self._empty[node]
        if empty is None:
            ca, cb = self._consts[node]
            if node < len(self.maps):
                self.tests += 1
                empty = self.pairs(node).is_empty()
            elif ca is not None and cb is not None:
                empty = ca != cb or self.is_empty(self._parent[node])
            elif self._empty[self._parent[node]] or self.empty_by_twin(node):
                empty = True
            else:
                self.tests += 1
                empty = self.pairs(node).is_empty()
            self._empty[node] = empty
        return empty

    def empty_by_twin(self, node: Node) -> bool:
        """Whether the node is below a tile row and its twin is empty (so it is too): no test on tiles."""
        return self._under[node] and self.is_empty(self.twin(node))

    def is_under_tile(self, node: Node) -> bool:
        """Whether a tile step lies on the way to the node."""
        return self._under[node]

    def later(self, node: Node) -> bool:
        """Whether some pair of the parent has a source row value greater than its sink row value."""
        found = self._later[node]
        if found is None:
            found = self._later[node] = self._compare(node, "gt")
        return found

    def earlier(self, node: Node) -> bool:
        """Whether some pair of the parent has a source row value less than its sink row value."""
        found = self._earlier[node]
        if found is None:
            found = self._earlier[node] = self._compare(node, "lt")
        return found

    def _compare(self, node: Node, order: str) -> bool:
        parent = self._parent[node]
        if self._empty[parent]:
            return False
        ca, cb = self._consts[node]
        if ca is not None and cb is not None:
            return (ca > cb if order == "gt" else ca < cb) and not self.is_empty(parent)
        if self._under[node]:
            # The twin's pairs include the parent's; for tile rows, compare the rows they tile.
            tiles = self._tiles[node]
            other = self.twin(node) if tiles is None else self.step(self.twin(parent), *tiles)
            if not (self.later(other) if order == "gt" else self.earlier(other)):
                return False
        source, sink = self._rows[node]  # type: ignore[misc]
        a, b = isl.PwAff.from_aff(source), isl.PwAff.from_aff(sink)
        relation = a.gt_map(b) if order == "gt" else a.lt_map(b)
        self.tests += 1
        return not self.pairs(parent).intersect(relation).is_empty()

    def respects(self, root: Node, source_rows: Sequence[isl.Aff], sink_rows: Sequence[isl.Aff],
                 source_texts: Sequence[str], sink_texts: Sequence[str]) -> bool:
        """Whether every pair of dependence `root` has its source time lexicographically before its
        sink time under the rows (and their texts, as `row_facts` gives them)."""
        node = root
        if self.is_empty(node):
            return True
        edges, later, empty, under = self._edges, self._later, self._empty, self._under
        for d in range(len(source_rows)):
            child = edges.get((node, source_texts[d], sink_texts[d]))
            if child is None:
                child = self.step(node, source_rows[d], sink_rows[d])
            node = child
            if later[node] is not False and self.later(node):
                return False
            # Below a tile row, only the twin (shared by every tile size) is tested on the way: the
            # last test below answers for the tiled pairs anyway.
            known = empty[node]
            if known is None:
                known = self.empty_by_twin(node) if under[node] else self.is_empty(node)
            if known:
                return True
        return self.is_empty(node)  # if not, some pairs run at the same time

    def descend(self, root: Node, source_rows: Sequence[isl.Aff], sink_rows: Sequence[isl.Aff],
                upto: int) -> Node | None:
        """The node of the pairs of dependence `root` whose times are equal at dimensions 0..upto-1,
        or None if there are none."""
        node = root
        if self.is_empty(node):
            return None
        for d in range(upto):
            node = self.step(node, source_rows[d], sink_rows[d])
            if self.is_empty(node):
                return None
        return node
