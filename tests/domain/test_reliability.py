"""ICC(1), ICC(1,k) and Krippendorff's alpha against published examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from service.domain.reliability import icc_oneway, krippendorff_alpha_interval

# Shrout & Fleiss (1979), Table 2: 6 targets (rows) x 4 judges (columns).
SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], float
)

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C:
# 4 observers (rows) x 12 units (columns), NaN = missing. Interval alpha = 0.849.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
        [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
    ]
)


def long_form(matrix, targets_are_rows):
    rows, cols = np.nonzero(~np.isnan(matrix))
    return (rows if targets_are_rows else cols), matrix[rows, cols]


def test_shrout_fleiss_icc1_and_icc1k():
    target, value = long_form(SHROUT_FLEISS, targets_are_rows=True)
    result = icc_oneway(target, value)
    assert round(result.icc1, 2) == 0.17
    assert round(result.icck, 2) == 0.44
    assert result.k == 4


def test_icc1k_is_spearman_brown_of_icc1_at_k0_when_unbalanced():
    target, value = long_form(KRIPPENDORFF_2011, targets_are_rows=False)
    result = icc_oneway(target, value)
    k, icc1 = result.k, result.icc1
    assert result.icck == pytest.approx(k * icc1 / (1 + (k - 1) * icc1))


def test_krippendorff_2011_interval_example():
    unit, value = long_form(KRIPPENDORFF_2011, targets_are_rows=False)
    assert round(krippendorff_alpha_interval(unit, value), 3) == 0.849


def test_krippendorff_ignores_units_with_one_value():
    unit, value = long_form(KRIPPENDORFF_2011[:, :11], targets_are_rows=False)
    full_unit, full_value = long_form(KRIPPENDORFF_2011, targets_are_rows=False)
    assert krippendorff_alpha_interval(unit, value) == krippendorff_alpha_interval(
        full_unit, full_value
    )


def test_perfect_agreement_gives_alpha_one():
    assert krippendorff_alpha_interval([0, 0, 1, 1, 2, 2], [1, 1, 3, 3, 2, 2]) == 1.0


def test_too_little_data_gives_nan():
    assert math.isnan(krippendorff_alpha_interval([0, 1], [1.0, 2.0]))
    assert math.isnan(icc_oneway([0, 0], [1.0, 2.0]).icc1)


def _panel_sums(target: np.ndarray, value: np.ndarray) -> list:
    """Group long-form ratings into per-panel-size sums, the shape the report's SQL returns."""
    from collections import defaultdict

    from service.domain.reliability import PanelSums

    per_target = defaultdict(list)
    for t, v in zip(target.tolist(), value.tolist(), strict=True):
        per_target[t].append(int(v))
    by_size = defaultdict(lambda: [0, 0, 0, 0])
    for values in per_target.values():
        sums = by_size[len(values)]
        sums[0] += 1
        sums[1] += sum(values)
        sums[2] += sum(v * v for v in values)
        sums[3] += sum(values) ** 2
    return [PanelSums(size, *sums) for size, sums in sorted(by_size.items())]


@pytest.mark.parametrize("seed", range(5))
def test_reliability_from_sums_equals_the_long_form(seed):
    from service.domain.reliability import (
        icc_oneway_from_sums,
        krippendorff_alpha_interval_from_sums,
    )

    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 6, size=60)
    target = np.repeat(np.arange(60), sizes)
    value = np.clip(
        np.round(
            rng.normal(2.5, 0.9, size=len(target)) + np.repeat(rng.normal(0, 0.7, size=60), sizes)
        ),
        1,
        4,
    )
    long_form, from_sums = (
        icc_oneway(target, value),
        icc_oneway_from_sums(_panel_sums(target, value)),
    )
    assert from_sums.icc1 == pytest.approx(long_form.icc1, abs=1e-9)
    assert from_sums.icck == pytest.approx(long_form.icck, abs=1e-9)
    assert krippendorff_alpha_interval_from_sums(_panel_sums(target, value)) == pytest.approx(
        krippendorff_alpha_interval(target, value), abs=1e-9
    )
