"""EXP, LN, POWER, SIN, COS, TAN and ARCTAN in plain IEEE 754 arithmetic, so loops vectorise.

Why not the C library: numba compiles ``math.exp`` into a call to libm, and a
loop that calls a function cannot use SIMD registers; the engine's ensembles
spend most of their time in these functions. Intel's SVML (which numba
can use) gives different last bits in its vector and scalar forms, so results
would depend on the chunk size. The formulas (:mod:`sdkit.engine.vformulas`,
compiled here) use only +, -, *, /, comparisons and exponent-bit manipulation,
which IEEE 754 rounds the same way in scalar and vector form on every machine
(numba does not contract a*b+c into a fused multiply-add unless asked to). The
numpy backend calls the same compiled functions on arrays and the formulas
themselves on one sample (:mod:`sdkit.engine.ufuncs`), so both backends and
every chunk size give identical bits.

Accuracy against the correctly rounded result: ``exp`` and ``ln`` within
1 ulp; ``power`` via ``exp(y * ln(x))`` within a few ulp for moderate
``|y * ln(x)|`` (relative error about ``|y ln x| * 2**-52``), exact for the
exponents 0, 1 and 2, and by at most four products for the integers 3 to 8
(so ``(-2)**3`` is ``-8`` and ``3**4`` is ``81`` exactly, as with C's ``pow``;
relative error at most ``y * 2**-53``; the products cost about 15 % of a
POWER). Exact ``1/x`` and ``sqrt(x)`` for -1 and 0.5 would cost a division
and a square root in every call, about 9 % of a core-model step. Special
values (zeros, infinities, NaN, negative bases with integer exponents, results
that overflow or fall into the subnormal range) follow C99 ``exp``/``log``/``pow``.
``sin``, ``cos`` and ``arctan`` within 1 ulp, ``tan`` within 2 (fdlibm's
kernels, their polynomials by Estrin's scheme, and a reduction by pi/2 in three
parts and a tail, exact for ``|x| < 8.2e5``).

Editing this file or the formulas: numba's on-disk cache does not notice changes
in called functions, so generated kernels and the loops of :mod:`sdkit.engine.ufuncs`
include both files' hashes in their module name and :mod:`sdkit.engine.vrandom` in
its loop's cache key (:data:`SOURCES_HASH`); all recompile.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import FunctionType

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from sdkit.engine import vformulas as formulas

_jit = njit(cache=True, error_model="numpy", inline="always")

#: hash of this file and of the formulas: part of the cache key of everything compiled from them
SOURCES_HASH = hashlib.sha256(Path(__file__).read_bytes() + Path(formulas.__file__).read_bytes()).hexdigest()


@intrinsic
def select(typingctx, condition, a, b):
    """``a if condition else b`` as one LLVM ``select``: no branch, both sides evaluated."""
    if not isinstance(condition, types.Boolean):
        return None

    def codegen(context, builder, signature, args):
        cond, x, y = args
        x = context.cast(builder, x, signature.args[1], types.float64)
        y = context.cast(builder, y, signature.args[2], types.float64)
        return builder.select(cond, x, y)

    return types.float64(condition, a, b), codegen


@intrinsic
def _f64_from_bits(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _bits_of_f64(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


_called = njit(cache=True, error_model="numpy")

#: the formulas' globals with numba's primitives and the compiled formulas in place of the Python ones
_SPACE = dict(vars(formulas))
_SPACE.update(select=select, _f64_from_bits=_f64_from_bits, _bits_of_f64=_bits_of_f64, floor=np.floor, int64=np.int64)


@_jit
def _divide(a, b):
    return a / b  # IEEE 754 under error_model="numpy": no exception to catch


_SPACE["divide"] = _divide


def _compiled(name: str):
    """numba's compile of the formula ``name``, inlined where called; it calls the compiled versions of the others."""
    formula = getattr(formulas, name)
    compiled = _jit(FunctionType(formula.__code__, _SPACE, name, formula.__defaults__))
    _SPACE[name] = compiled
    return compiled


exp, ln, _small_integer_power, power = map(_compiled, ("exp", "ln", "_small_integer_power", "power"))
_reduce, _kernel_sin, _kernel_cos, _kernel_tan = map(_compiled, ("_reduce", "_kernel_sin", "_kernel_cos", "_kernel_tan"))
sin, cos, tan, arctan = map(_compiled, ("sin", "cos", "tan", "arctan"))

# The same functions compiled once and called, not inlined: for code that runs once per
# sample (a kernel's initialisation), where inlining would only cost compile time.
exp_called = _called(exp.py_func)
ln_called = _called(ln.py_func)
power_called = _called(power.py_func)
sin_called = _called(sin.py_func)
cos_called = _called(cos.py_func)
tan_called = _called(tan.py_func)
arctan_called = _called(arctan.py_func)
