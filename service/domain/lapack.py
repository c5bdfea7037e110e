"""Cholesky factors and triangular inverses that use both cores and free the GIL.

`scipy.linalg.lapack`'s wrappers hold the GIL for the whole call: a 2,000 × 2,000
Cholesky factorisation or triangular inverse on one thread (~0.1 s) stops every other
Python thread of the calibration fit, whose numpy work would run on the other core
meanwhile. And OpenBLAS's own threads, which would put the second core to work,
spin while they wait and made these calls 5–50× slower whenever another process held
a core (so the workers run it single-threaded, `OPENBLAS_NUM_THREADS=1`).

These call the same LAPACK and BLAS through the C interface scipy publishes for
this (`scipy.linalg.cython_lapack`, `cython_blas`: functions declared `nogil`) with
`ctypes`, which releases the GIL for the length of a foreign call. From
`SPLIT_ORDER` on, a matrix is taken in 2 × 2 blocks whose independent parts run at
once, on the calling thread and on a helper thread:

- Cholesky, A = [[A₁₁, ·], [A₂₁, A₂₂]]: L₁₁ (recursively), then L₂₁ = A₂₁ L₁₁⁻ᵀ by
  halves of its rows, A₂₂ − L₂₁ L₂₁ᵀ by its two diagonal quarters beside the
  off-diagonal one, then L₂₂ (recursively).
- Inverse, L = [[L₁₁, 0], [L₂₁, L₂₂]]: L₁₁⁻¹ beside L₂₂⁻¹, then
  −L₂₂⁻¹ L₂₁ L₁₁⁻¹ by halves of rows, then of columns.

Each block operation is LAPACK's or BLAS's own, so the results agree with
`scipy.linalg.lapack`'s to rounding (the same operations in another order).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.linalg import cython_blas, cython_lapack

SPLIT_ORDER = 800  # below it, one LAPACK call: a block of 400 gains too little

_PREFIX = {np.dtype(np.float64): "d", np.dtype(np.float32): "s"}
_SCALAR = {np.dtype(np.float64): ctypes.c_double, np.dtype(np.float32): ctypes.c_float}


def cholesky_lower(a: npt.NDArray[Any], *, overwrite: bool = False) -> tuple[npt.NDArray[Any], int]:
    """As `scipy.linalg.lapack.?potrf(a, lower=1, clean=0)`: L (the strict upper
    triangle left as it was in `a`) and LAPACK's info (0, or the order of the leading
    minor that is not positive definite). `overwrite`: factor an F-ordered `a` in place."""
    factor = _fortran(a, overwrite)
    return factor, _Blocks(factor).cholesky(0, factor.shape[0])


def inverse_lower(a: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], int]:
    """As `scipy.linalg.lapack.?trtri(a, lower=1)`: the inverse of the lower triangle
    of `a` in a new array (its strict upper triangle copied from `a`) and LAPACK's
    info (0, or the position of a zero on the diagonal)."""
    inverse = _fortran(a, overwrite=False)
    return inverse, _Blocks(inverse).inverse()


class _Blocks:
    """An F-ordered square array, worked on in place block by block."""

    def __init__(self, a: npt.NDArray[Any]) -> None:
        self.a, self.order = a, a.shape[0]
        self.prefix = _PREFIX[a.dtype]
        self.scalar = _SCALAR[a.dtype]
        self.two_cores = cores() > 1

    def at(self, row: int, column: int) -> int:
        """The address of element (row, column)."""
        return int(self.a.ctypes.data + (row + column * self.order) * self.a.itemsize)

    def cholesky(self, start: int, n: int) -> int:
        """Factor the diagonal block [start, start + n)² in place; LAPACK's info."""
        if not self.two_cores or n < SPLIT_ORDER:
            return self._lapack("potrf", b"L", _int(n), self.at(start, start))
        k = n // 2
        info = self.cholesky(start, k)
        if info:
            return info
        low, rest = start + k, n - k
        half = rest // 2
        one, a11 = self._number(1.0), self.at(start, start)

        def solve(row: int, rows: int) -> None:  # L₂₁ = A₂₁ L₁₁⁻ᵀ
            self._blas(
                "trsm", b"R", b"L", b"T", b"N", _int(rows), _int(k), one, a11, self.at(row, start)
            )

        _both(lambda: solve(low, half), lambda: solve(low + half, rest - half))
        minus = self._number(-1.0)

        def update_diagonal() -> None:  # A₂₂'s diagonal quarters − L₂₁ L₂₁ᵀ
            for row, rows in ((low, half), (low + half, rest - half)):
                self._blas(
                    "syrk",
                    b"L",
                    b"N",
                    _int(rows),
                    _int(k),
                    minus,
                    self.at(row, start),
                    one,
                    self.at(row, row),
                )

        def update_off_diagonal() -> None:  # and its lower-left quarter
            self._blas(
                "gemm",
                b"N",
                b"T",
                _int(rest - half),
                _int(half),
                _int(k),
                minus,
                self.at(low + half, start),
                self.at(low, start),
                one,
                self.at(low + half, low),
            )

        _both(update_diagonal, update_off_diagonal)
        info = self.cholesky(low, rest)
        return info + k if info else 0

    def inverse(self) -> int:
        """Invert the lower triangle in place; LAPACK's info."""
        n = self.order
        if not self.two_cores or n < SPLIT_ORDER:
            return self._lapack("trtri", b"L", b"N", _int(n), self.at(0, 0))
        k = n // 2
        rest = n - k
        first, second = _both(
            lambda: self._lapack("trtri", b"L", b"N", _int(k), self.at(0, 0)),
            lambda: self._lapack("trtri", b"L", b"N", _int(rest), self.at(k, k)),
        )
        if first or second:
            return int(first or second + k)
        one, minus = self._number(1.0), self._number(-1.0)
        half, middle = rest // 2, k // 2

        def right(row: int, rows: int) -> None:  # L₂₁ L₁₁⁻¹
            self._blas(
                "trmm",
                b"R",
                b"L",
                b"N",
                b"N",
                _int(rows),
                _int(k),
                one,
                self.at(0, 0),
                self.at(row, 0),
            )

        def left(column: int, columns: int) -> None:  # −L₂₂⁻¹ (L₂₁ L₁₁⁻¹)
            self._blas(
                "trmm",
                b"L",
                b"L",
                b"N",
                b"N",
                _int(rest),
                _int(columns),
                minus,
                self.at(k, k),
                self.at(k, column),
            )

        _both(lambda: right(k, half), lambda: right(k + half, rest - half))
        _both(lambda: left(0, middle), lambda: left(middle, k - middle))
        return 0

    def _number(self, value: float) -> Any:
        return ctypes.byref(self.scalar(value))

    def _lapack(self, name: str, *arguments: Any) -> int:
        """`?name(*arguments, lda, info)`, the leading dimension being the array's."""
        info = ctypes.c_int(0)
        _function(cython_lapack, self.prefix + name)(
            *arguments, _int(self.order), ctypes.byref(info)
        )
        return info.value

    def _blas(self, name: str, *arguments: Any) -> None:
        """`?name`, with the array's leading dimension after each matrix argument."""
        ld = _int(self.order)
        with_ld: list[Any] = []
        for argument in arguments:
            with_ld.append(argument)
            if isinstance(argument, int):  # an address
                with_ld.append(ld)
        _function(cython_blas, self.prefix + name)(*with_ld)


def _fortran(a: npt.NDArray[Any], overwrite: bool) -> npt.NDArray[Any]:
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.dtype not in _PREFIX:
        raise ValueError(f"a square float32 or float64 matrix, not {a.dtype} {a.shape}")
    if overwrite and a.flags.f_contiguous and a.flags.writeable:
        return a
    return np.array(a, order="F", copy=True)


def _int(value: int) -> Any:
    return ctypes.byref(ctypes.c_int(value))


def _both(first: Callable[[], Any], second: Callable[[], Any]) -> tuple[Any, Any]:
    """`first()` on a thread of its own while `second()` runs here (a thread per call:
    ~0.1 ms against the ~10 ms of a block, and no pool to share or lose at a fork)."""
    with ThreadPoolExecutor(1, thread_name_prefix="lapack") as helper:
        started = helper.submit(first)
        here = second()
        return started.result(), here


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@cache
def _function(module: Any, name: str) -> Any:
    """`module`'s (cython_lapack's, cython_blas's) `name` as a ctypes function of
    pointers (characters, integers, scalars and arrays are all passed by address)."""
    capsule = module.__pyx_capi__[name]
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype = ctypes.c_void_p
    get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    signature = get_name(capsule)  # the C declaration: "void (char *, int *, ...)"
    address = get_pointer(capsule, signature)
    return ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * signature.count(b"*"))(address)
