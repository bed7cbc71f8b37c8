"""
Python model 'regions.py'
Translated using PySD
"""

from pathlib import Path
import numpy as np
import xarray as xr

from pysd.py_backend.functions import sum
from pysd.py_backend.statefuls import Integ
from pysd import Component

__pysd_version__ = "3.14.3"

__data = {"scope": None, "time": lambda: 0}

_root = Path(__file__).parent


_subscript_dict = {"Region": ["north", "south"]}

component = Component()

#######################################################################
#                          CONTROL VARIABLES                          #
#######################################################################

_control_vars = {
    "initial_time": lambda: 0,
    "final_time": lambda: 10,
    "time_step": lambda: 0.25,
    "saveper": lambda: 1,
}


def _init_outer_references(data):
    for key in data:
        __data[key] = data[key]


@component.add(name="Time")
def time():
    """
    Current time of the model.
    """
    return __data["time"]()


@component.add(
    name="FINAL TIME", units="Year", comp_type="Constant", comp_subtype="Normal"
)
def final_time():
    """
    The final time for the simulation.
    """
    return __data["time"].final_time()


@component.add(
    name="INITIAL TIME", units="Year", comp_type="Constant", comp_subtype="Normal"
)
def initial_time():
    """
    The initial time for the simulation.
    """
    return __data["time"].initial_time()


@component.add(
    name="SAVEPER",
    units="Year",
    limits=(0.0, np.nan),
    comp_type="Constant",
    comp_subtype="Normal",
)
def saveper():
    """
    The frequency with which output is stored.
    """
    return __data["time"].saveper()


@component.add(
    name="TIME STEP",
    units="Year",
    limits=(0.0, np.nan),
    comp_type="Constant",
    comp_subtype="Normal",
)
def time_step():
    """
    The time step for the simulation.
    """
    return __data["time"].time_step()


#######################################################################
#                           MODEL VARIABLES                           #
#######################################################################


@component.add(
    name="Capacity",
    units="Dmnl",
    limits=(0.0, np.nan),
    subscripts=["Region"],
    comp_type="Stateful",
    comp_subtype="Integ",
    depends_on={"_integ_capacity": 1},
    other_deps={
        "_integ_capacity": {"initial": {}, "step": {"growth": 1, "capacity": 1}}
    },
)
def capacity():
    """
    Capacity per region.
    """
    return _integ_capacity()


_integ_capacity = Integ(
    lambda: growth() * capacity(),
    lambda: xr.DataArray(1, {"Region": _subscript_dict["Region"]}, ["Region"]),
    "_integ_capacity",
)


@component.add(
    name="growth",
    units="1/Year",
    limits=(0.0, 1.0),
    subscripts=["Region"],
    comp_type="Constant",
    comp_subtype="Normal",
)
def growth():
    """
    Growth rate per region.
    """
    return xr.DataArray([0.02, 0.05], {"Region": _subscript_dict["Region"]}, ["Region"])


@component.add(
    name="Total Capacity",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"capacity": 1},
)
def total_capacity():
    """
    Capacity summed over regions.
    """
    return sum(capacity().rename({"Region": "Region!"}), dim=["Region!"])
