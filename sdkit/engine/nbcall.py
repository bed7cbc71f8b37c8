"""How the numba kernel's driver calls a block: by the address of its compiled function.

The driver (:data:`sdkit.engine.nbblocks.DRIVER`) is the same for every model and is
compiled once; the blocks differ. ``run`` receives the blocks' addresses as an array
of integers and :func:`block_function` turns one into a numba first-class function of
the blocks' common :data:`SIGNATURE`, called with numba's own calling convention.
Nothing model-specific is compiled into the driver, so numba's cache of it holds for
every model, and the driver never links in (nor recompiles) a block.
"""

from __future__ import annotations

import warnings

import numba
from numba.core import cgutils, types
from numba.extending import intrinsic

ARRAY = types.float64[::1]
#: block(X, W, R, m, t, T0, TF, DT, SP, C) -> 0
SIGNATURE = types.int64(ARRAY, ARRAY, types.int64[::1], types.int64, *[types.float64] * 5, ARRAY)
FUNCTION = types.FunctionType(SIGNATURE)

warnings.filterwarnings("ignore", "First-class function type feature is experimental",
                        numba.NumbaExperimentalFeatureWarning)


@intrinsic
def block_function(typingctx, address):
    """The block function compiled at ``address`` (see :func:`address_of`)."""

    def codegen(context, builder, signature, args):
        function = cgutils.create_struct_proxy(FUNCTION)(context, builder)
        null = context.get_constant_null(types.voidptr)
        function.c_addr = null
        function.py_addr = null
        function.jit_addr = builder.inttoptr(args[0], context.get_value_type(types.voidptr))
        return function._getvalue()

    return FUNCTION(types.int64), codegen


def address_of(dispatcher) -> int:
    """The address of ``dispatcher``'s compiled function of :data:`SIGNATURE`, compiled (or loaded) if need be."""
    dispatcher.compile(SIGNATURE.args)
    compiled = dispatcher.overloads[SIGNATURE.args]
    return compiled.library.get_pointer_to_function(compiled.fndesc.llvm_func_name)
