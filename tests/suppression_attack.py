"""An attacker on adverse-impact reports: which hidden counts can be solved for from the rest.

The reader of `service.domain.suppression`'s model, written independently of the
rule: unknowns are the people per full answer combination (sex, race, veteran,
disability; combinations with a declined answer count as known), per step and
quantity. The reader knows every served number, each step's totals, which groups
are empty, and how many of those selected at a stage did not reach a decision at
the next (so selected at stage k and reached at stage k+1 differ by a known
number, as do reached at the first stage and decided overall, selected at the
last stage and hired). A hidden count is recovered when its defining sum lies in
the row space of what the reader knows; exact linear algebra modulo a large
prime (entries are 0 and 1, so a false "not recovered" would need the prime to
divide a minor: we use two primes).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

from service.domain.self_identification import DECLINED, DIMENSIONS, QUESTIONS, group_of

PRIMES = (2_147_483_647, 2_147_483_629)
COMBOS = [
    dict(zip(QUESTIONS, answers, strict=True))
    for answers in itertools.product(
        *([a for a in choices if a != DECLINED] for choices in QUESTIONS.values())
    )
]

Step = tuple[str, str]
Member = tuple[Step, str]


def slots(chain_stages: Sequence[Step], whole_process: Step | None) -> list[list[Member]]:
    """Members the reader sees as one unknown (up to a known difference)."""
    groups: list[list[Member]] = [[(s, "reached")] for s in chain_stages] + [[]]
    for index, stage in enumerate(chain_stages):
        groups[index + 1].append((stage, "selected"))
    if whole_process is not None:
        groups[0].append((whole_process, "reached"))
        groups[-1].append((whole_process, "selected"))
    return [g for g in groups if g]


def served_numbers(report: Mapping) -> dict[tuple[str, Step], dict[str, dict[str, int]]]:
    """(dimension, (template key, stage)) -> group -> the counts the response shows."""
    served = {}
    for section in report["dimensions"]:
        for step in section["steps"]:
            served[(section["dimension"], (step["template_key"], step["stage"]))] = {
                g["group"]: {q: g[q] for q in ("reached", "selected") if g.get(q) is not None}
                for g in step["groups"]
            }
    return served


def recovered(
    served: Mapping[tuple[str, Step], Mapping[str, Mapping[str, int]]],
    truth: Mapping[tuple[Step, str], Mapping[tuple[str, ...], int]],
    chains: Sequence[tuple[Sequence[Step], Step | None]],
) -> list[tuple[str, Step, str, str, int]]:
    """Every hidden, non-zero count the report lets the reader compute, with its value.

    `truth[(step, quantity)][answers in QUESTIONS order]` are the real counts. Counts
    the reader would know with nothing served (the totals and empty groups alone
    fix them) are not the report's doing and are left out.
    """
    found = []
    for chain in chains:
        for slot in slots(*chain):
            found.extend(_recovered_in_slot(slot, served, truth))
    return found


def tied_to_shown(served, chains) -> list[tuple[str, Step, str, str]]:
    """Hidden counts whose slot shows another member: not protected, by design.

    (E.g. reached at a stage where most of the group is still waiting: selected at
    the previous stage is shown, and minus those waiting it gives this count.) The
    rule hides these only for being too small for a rate; tests check that.
    """
    tied = []
    for chain in chains:
        for slot in slots(*chain):
            for d in DIMENSIONS:
                groups = {g for step, _ in slot for g in served.get((d, step), {})}
                for group in sorted(groups):
                    shown = [
                        (step, q)
                        for step, q in slot
                        if q in served.get((d, step), {}).get(group, {})
                    ]
                    if shown:
                        tied.extend(
                            (d, step, group, q)
                            for step, q in slot
                            if (step, q) not in shown and (d, step) in served
                        )
    return tied


def count_of(truth, member, dimension, group) -> int:
    """The real count of one group at one (step, quantity)."""
    return sum(
        n
        for answers, n in truth.get(member, {}).items()
        if group_of(dimension, dict(zip(QUESTIONS, answers, strict=True))) == group
    )


def _recovered_in_slot(slot, served, truth):
    def size(dimension, group):
        return max(count_of(truth, m, dimension, group) for m in slot)

    empty = {
        (d, g)
        for (d, step), groups in served.items()
        if any(step == m[0] for m in slot)
        for g in groups
        if size(d, g) == 0
    }
    unknown = [c for c in COMBOS if not any((d, group_of(d, c)) in empty for d in DIMENSIONS)]

    def row(dimension, group):
        return [1 if group_of(dimension, c) == group else 0 for c in unknown]

    known_rows = [[1] * len(unknown)]  # the step's total
    served_rows, targets = [], []
    for step, quantity in slot:
        for d in DIMENSIONS:
            for group, numbers in served.get((d, step), {}).items():
                tied = any(q in served.get((d, s), {}).get(group, {}) for s, q in slot)
                if quantity in numbers:
                    served_rows.append(row(d, group))
                elif (d, group) not in empty and not tied:
                    value = count_of(truth, (step, quantity), d, group)
                    targets.append(((d, step, group, quantity, value), row(d, group)))
    if not unknown or not targets:
        return []
    found = []
    for prime in PRIMES:
        with_report = _reducer(known_rows + served_rows, prime)
        without = _reducer(known_rows, prime)
        found.append(
            {
                key
                for key, target in targets
                if key[4] > 0 and with_report(target) and not without(target)
            }
        )
    return sorted(set.intersection(*found))


def _reducer(rows, prime):
    """A test of whether a vector lies in the row space of `rows`, modulo `prime`."""
    matrix = np.array(rows, dtype=np.int64) % prime
    pivots = []
    r = 0
    for column in range(matrix.shape[1]):
        nonzero = np.nonzero(matrix[r:, column])[0]
        if not len(nonzero):
            continue
        pivot = r + nonzero[0]
        matrix[[r, pivot]] = matrix[[pivot, r]]
        matrix[r] = matrix[r] * pow(int(matrix[r, column]), prime - 2, prime) % prime
        factors = matrix[:, column].copy()
        factors[r] = 0
        matrix = (matrix - np.outer(factors, matrix[r]) % prime) % prime
        pivots.append(column)
        r += 1
        if r == matrix.shape[0]:
            break
    basis = matrix[:r]

    def in_row_space(vector) -> bool:
        v = np.array(vector, dtype=np.int64) % prime
        for i, column in enumerate(pivots):
            if v[column]:
                v = (v - int(v[column]) * basis[i] % prime) % prime
        return not v.any()

    return in_row_space


def truth_of(people, stages: Sequence[Step], whole_process: Step | None):
    """Real counts from people given as (answers dict, index of the last stage, status).

    Status at that stage: "active", "withdrawn", "rejected", or "hired" (last stage
    only). Declined answers are left out (the reader knows those combinations).
    """
    truth: dict[tuple[Step, str], dict[tuple[str, ...], int]] = defaultdict(
        lambda: defaultdict(int)
    )
    for answers, last, status in people:
        if DECLINED in answers.values():
            continue
        key = tuple(answers[q] for q in QUESTIONS)
        for index, stage in enumerate(stages[: last + 1]):
            decided = index < last or status in ("rejected", "hired")
            truth[(stage, "reached")][key] += decided
            truth[(stage, "selected")][key] += index < last or status == "hired"
        if whole_process is not None:
            truth[(whole_process, "reached")][key] += status in ("rejected", "hired")
            truth[(whole_process, "selected")][key] += status == "hired"
    return truth
