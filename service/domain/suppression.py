"""Which counts an adverse-impact report may show: one rule over every breakdown and step.

A report serves, together, the groups of `sex`, `race_ethnicity`, their cross
`sex_race_ethnicity`, `veteran_status` and `disability_status` at every step of
a template. Hiding small groups one table at a time leaks: with female 80 shown
and the shown female/* cells adding up to 66, the one hidden female cell is 14.
And the people selected at a stage are the people who reach the next one, so a
group hidden at stage k+1 shows again as stage k's `selected`.

Every number served is a sum of the underlying counts (people per answer
combination, per step, reached or selected). A hidden count is safe when the
served numbers do not determine it, even for a reader who also knows (worst
case): each step's totals and how many declined each question (the pipeline
report gives totals); which groups nobody is in at a step; and, per group, how
many selected at a stage did not reach a decision at the next (still waiting,
withdrew, skipped) -- zero on a closed requisition, where selected at stage k
*is* reached at stage k+1.

For that reader some numbers are one unknown; we call such a set a *slot*:
reached at the first stage and decided in the whole process (every decided
person was decided at the first stage; the difference is the people still
waiting later), selected at stage k and reached at stage k+1, selected at the
last stage and hired. The rule:

1. Primary, per slot: a group is hidden in the slot when its largest member is
   below the slot's minimum (`min_applicants` if the slot holds a reached,
   else `min_selections`) or zero. So stage k's selected needs `min_applicants`
   unless it is the last stage: on a closed requisition it *is* stage k+1's
   reached. A hidden reached also hides that step's selected (a rate needs both).
2. Slots: a count hidden in one member of a slot is hidden in all of them. A
   member below its own minimum in a slot that is shown (reached at a stage
   where most of the group is still waiting) is left blank as insufficient data
   by the report, but it is not protected: the worst-case reader gets it from
   the shown member; it is a small number of people with no outcome attached
   (their selected is hidden with it).
3. Complementary suppression, per slot: the groups of one table family are the
   edges of a graph whose vertices are the sums the reader knows. For sex x race:
   a cell s/r joins vertex "sex s" to "race r", the margin sex=s joins "sex s" to
   "race (all)", race=r joins "sex (all)" to "race r" (each vertex: its edges add
   up to a known number, e.g. the cells of sex s minus the margin s is minus those
   of sex s who declined race). Veteran and disability status: every group is an
   edge between the same two vertices. The hidden, non-empty counts are the
   unknowns; the served numbers fix their sum at every vertex, so the solutions
   differ by cycles, and a hidden count is determined exactly when its edge is a
   bridge (on no cycle). While a hidden edge is a bridge we hide the cheapest path
   of shown non-empty edges that closes a cycle through it (fewest people; cells
   before margins, since a margin holds its cells).
4. Repeat for the next slot (hiding a reached in step 3 hides the step's
   selected, which belongs to the next slot), in pipeline order, so one pass
   reaches the fixed point.

Why it is sound: for a hidden non-empty count x in a slot, take a cycle through
its edge and move the underlying counts of the slot's members by +-1 along it
(for sex x race, in people with one fixed veteran and disability answer; for a
veteran group, between two of its hidden groups at one fixed sex, race and
disability answer). Every served number, total, declined count, empty group and
waiting count stays the same and x changes, so nothing served determines x.
Table families are independent because each is moved inside the others' fixed
answers. Not covered: bounds (a hidden count is at most the shown one it is
part of), what the pattern of hidden cells itself suggests, and a count that
equals a known total whatever is hidden (everyone who answered is in one group).
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from service.domain.adverse_impact import GroupCounts
from service.domain.self_identification import INTERSECTION

REACHED = "reached"
SELECTED = "selected"
ALL = "(all)"

# The cross-classification and the two breakdowns it refines.
_CROSSED = {INTERSECTION: ("sex", "race_ethnicity")}

Step = Hashable
Member = tuple[Step, str]  # (step, REACHED or SELECTED)
Item = tuple[str, str]  # (dimension, group)


@dataclass(frozen=True)
class Chain:
    """One template's stage steps in pipeline order, and its whole-process step if any."""

    stages: tuple[Step, ...]
    whole_process: Step | None = None


@dataclass(frozen=True)
class Shown:
    """Whether a group's reached and selected at one step may be shown."""

    reached: bool
    selected: bool


def shown_counts(
    counts: Mapping[tuple[str, Step], Sequence[GroupCounts]],
    chains: Sequence[Chain],
    *,
    min_applicants: int,
    min_selections: int,
) -> dict[tuple[str, Step], dict[str, Shown]]:
    """Per (dimension, step) and group, whether its reached and its selected may be shown.

    `counts` lists every group of every dimension at every step of `chains`,
    empty groups too; the rule is in the module docstring.
    """
    values = {(d, step, c.group): c for (d, step), groups in counts.items() for c in groups}
    hidden: set[tuple[str, str, Member]] = set()
    items = sorted({(d, group) for d, _, group in values})
    minimum = {REACHED: min_applicants, SELECTED: min_selections}
    for chain in chains:
        for slot in _slots(chain):
            _protect(slot, items, values, hidden, max(minimum[q] for _, q in slot))
    return {
        (d, step): {
            c.group: _SHOWN[
                (d, c.group, (step, REACHED)) not in hidden,
                (d, c.group, (step, SELECTED)) not in hidden,
            ]
            for c in groups
        }
        for (d, step), groups in counts.items()
    }


# The four patterns, made once (a frozen dataclass per group and step was ~1/10 of
# `shown_counts`); equal to any Shown with the same fields.
_SHOWN = {
    (reached, selected): Shown(reached=reached, selected=selected)
    for reached in (False, True)
    for selected in (False, True)
}


def _slots(chain: Chain) -> list[list[Member]]:
    """The members that the worst-case reader sees as one unknown, in pipeline order."""
    stages, whole = chain.stages, chain.whole_process
    slots: list[list[Member]] = [[(s, REACHED)] for s in stages] + [[]]
    for index, stage in enumerate(stages):
        slots[index + 1].insert(0, (stage, SELECTED))
    if whole is not None:
        slots[0].append((whole, REACHED))
        slots[-1].append((whole, SELECTED))
    return [slot for slot in slots if slot]


def _protect(
    slot: list[Member],
    items: Sequence[Item],
    values: Mapping[tuple[str, Step, str], GroupCounts],
    hidden: set[tuple[str, str, Member]],
    minimum: int,
) -> None:
    """Rules 1-3 for one slot: small, hidden reached -> hidden selected, uniform, no bridges."""
    present = [m for m in slot if any((d, m[0], g) in values for d, g in items)]
    for step, quantity in present:
        if quantity == SELECTED:
            for d, group in items:
                if (d, group, (step, REACHED)) in hidden:
                    hidden.add((d, group, (step, SELECTED)))
    size: dict[Item, int] = {}
    for d, group in items:
        numbers = [
            getattr(values[(d, step, group)], quantity)
            for step, quantity in present
            if (d, step, group) in values
        ]
        if not numbers:
            continue
        size[(d, group)] = max(numbers)
        small = size[(d, group)] == 0 or size[(d, group)] < minimum
        if small or any((d, group, m) in hidden for m in present):
            hidden.update((d, group, m) for m in present)
    families: dict[str, list[Item]] = {}
    for item in size:
        families.setdefault(_edge(*item)[0], []).append(item)
    for family in families.values():
        unknown = {i for i in family if size[i] > 0 and (i[0], i[1], present[0]) in hidden}
        shown = {i for i in family if size[i] > 0} - unknown
        for item in _complement(unknown, shown, size):
            hidden.update((item[0], item[1], m) for m in present)


def _complement(unknown: set[Item], shown: set[Item], size: Mapping[Item, int]) -> set[Item]:
    """Shown items to hide so that no unknown edge is a bridge, cheapest paths first."""
    added: set[Item] = set()
    unknown, shown = set(unknown), set(shown)
    hopeless: set[Item] = set()
    while True:
        bridges = sorted(bridges_of(unknown) - hopeless)
        if not bridges:
            return added
        bridge = bridges[0]
        path = _cheapest_path(bridge, unknown - {bridge}, shown, size)
        if path is None:
            hopeless.add(bridge)  # determined by the known totals whatever is hidden
            continue
        for item in path:
            if item in shown:
                shown.discard(item)
                unknown.add(item)
                added.add(item)


def bridges_of(edges: set[Item]) -> set[Item]:
    """The edges on no cycle of the graph they make: those whose ends no path through the
    other edges joins (parallel edges are on a cycle of two, a loop on one).

    One depth-first pass (Tarjan's bridge-finding) rather than a path search per edge:
    that search, repeated for every unknown edge on every round of `_complement`, was a
    fifth of the adverse-impact report's Python time at 100k applications."""
    adjacent: dict[Hashable, list[tuple[Item, Hashable]]] = {}
    for item in edges:
        _, u, v = _edge(*item)
        adjacent.setdefault(u, []).append((item, v))
        adjacent.setdefault(v, []).append((item, u))
    order: dict[Hashable, int] = {}
    low: dict[Hashable, int] = {}
    bridges: set[Item] = set()

    def visit(vertex: Hashable, via: Item | None) -> None:
        order[vertex] = low[vertex] = len(order)
        for item, other in adjacent[vertex]:
            if item == via:
                continue
            if other in order:
                low[vertex] = min(low[vertex], order[other])
            else:
                visit(other, item)
                low[vertex] = min(low[vertex], low[other])
                if low[other] > order[vertex]:
                    bridges.add(item)

    for vertex in adjacent:
        if vertex not in order:
            visit(vertex, None)
    return bridges


def _cheapest_path(
    edge: Item, free: set[Item], priced: set[Item], size: Mapping[Item, int]
) -> list[Item] | None:
    """Edges of the cheapest path between `edge`'s ends: `free` ones cost 0, `priced` their size.

    Ties go to the path found first in sorted order, so the result never depends on input order.
    """
    _, start, goal = _edge(*edge)
    adjacent: dict[Hashable, list[tuple[int, Item, Hashable]]] = {}
    for item in sorted(free | priced):
        _, u, v = _edge(*item)
        cost = 0 if item in free else size[item] + 1
        adjacent.setdefault(u, []).append((cost, item, v))
        adjacent.setdefault(v, []).append((cost, item, u))
    queue: list[tuple[int, tuple[Item, ...], Hashable]] = [(0, (), start)]
    done: set[Hashable] = set()
    while queue:
        cost, path, vertex = heapq.heappop(queue)
        if vertex == goal:
            return list(path)
        if vertex in done:
            continue
        done.add(vertex)
        for step_cost, item, other in adjacent.get(vertex, []):
            if other not in done:
                heapq.heappush(queue, (cost + step_cost, (*path, item), other))
    return None


@cache
def _edge(dimension: str, group: str) -> tuple[str, Hashable, Hashable]:
    """(table family, one end, other end) of a group's edge; see rule 3. Cached: it
    depends on the two labels only, and a report asks for the same few dozen
    thousands of times (a sixth of `shown_counts`)."""
    for cells, (rows, columns) in _CROSSED.items():
        if dimension == cells:
            row, column = group.split("/", 1)
            return cells, (rows, row), (columns, column)
        if dimension == rows:
            return cells, (rows, group), (columns, ALL)
        if dimension == columns:
            return cells, (rows, ALL), (columns, group)
    return dimension, (dimension, "groups"), (dimension, ALL)
