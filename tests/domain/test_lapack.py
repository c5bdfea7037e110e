"""The blocked, GIL-free Cholesky factor and triangular inverse agree with scipy's LAPACK."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import lapack

import service.domain.lapack
from service.domain.lapack import SPLIT_ORDER, cholesky_lower, inverse_lower

# One LAPACK call, the first split, a split whose halves split again, an odd order.
ORDERS = [7, SPLIT_ORDER - 1, SPLIT_ORDER, 2 * SPLIT_ORDER + 3]
TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}


@pytest.fixture(autouse=True)
def two_cores(monkeypatch):
    """The blocks are split on a machine of two cores or more: so here, on any machine."""
    monkeypatch.setattr(service.domain.lapack, "cores", lambda: 2)


def positive_definite(n: int, dtype: type, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n))
    return np.asfortranarray(a @ a.T + n * np.eye(n)).astype(dtype, order="F")


def relative_gap(mine: np.ndarray, reference: np.ndarray) -> float:
    return float(np.abs(mine - reference).max() / np.abs(reference).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", ORDERS)
def test_the_factor_is_lapacks_and_leaves_the_upper_triangle(n, dtype):
    m = positive_definite(n, dtype)
    potrf = lapack.dpotrf if dtype == np.float64 else lapack.spotrf
    reference, reference_info = potrf(m, lower=1, clean=0)
    factor, info = cholesky_lower(m)
    assert info == reference_info == 0
    assert factor.dtype == dtype
    assert relative_gap(np.tril(factor), np.tril(reference)) < TOLERANCE[dtype]
    assert np.array_equal(np.triu(factor, 1), np.triu(m, 1)), "the upper triangle untouched"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", ORDERS)
def test_the_inverse_is_lapacks(n, dtype):
    lower = np.tril(lapack.dpotrf(positive_definite(n, np.float64), lower=1)[0]).astype(dtype)
    trtri = lapack.dtrtri if dtype == np.float64 else lapack.strtri
    reference, reference_info = trtri(lower, lower=1)
    inverse, info = inverse_lower(lower)
    assert info == reference_info == 0
    assert relative_gap(inverse, reference) < TOLERANCE[dtype]
    assert np.allclose(np.tril(inverse) @ lower, np.eye(n), atol=1e-4)


@pytest.mark.parametrize("position", [3, SPLIT_ORDER // 2 + 5, SPLIT_ORDER + 300])
def test_a_matrix_that_is_not_positive_definite_gives_lapacks_info(position):
    n = 2 * SPLIT_ORDER
    m = np.eye(n, order="F")
    m[position, position] = -1.0
    assert cholesky_lower(m)[1] == lapack.dpotrf(m, lower=1)[1] == position + 1
    singular = np.eye(n, order="F")
    singular[position, position] = 0.0
    assert inverse_lower(singular)[1] == lapack.dtrtri(singular, lower=1)[1] == position + 1


def test_overwrite_factors_in_place_and_otherwise_the_input_is_kept():
    m = positive_definite(SPLIT_ORDER + 10, np.float64)
    kept = m.copy()
    factor, _ = cholesky_lower(m)
    assert factor is not m and np.array_equal(m, kept)
    in_place, _ = cholesky_lower(m, overwrite=True)
    assert in_place is m and np.array_equal(np.tril(m), np.tril(factor))
    c_ordered = np.ascontiguousarray(kept)
    assert cholesky_lower(c_ordered, overwrite=True)[0] is not c_ordered, "only F order in place"
    inverse_lower(np.tril(kept))
    assert np.array_equal(c_ordered, kept)


def test_a_matrix_it_cannot_take_is_refused():
    with pytest.raises(ValueError, match="square float32 or float64"):
        cholesky_lower(np.eye(3, dtype=np.int64))
    with pytest.raises(ValueError, match="square float32 or float64"):
        inverse_lower(np.ones((3, 4)))
