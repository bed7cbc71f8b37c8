"""``sdkit explore``: a model explorer in the browser, served from this machine.

:class:`Explorer` computes what the page shows (a run, the fan of an ensemble around
it, the checks, a figure) at a parameter point; :func:`create_app` serves it as a
JSON API and one static page; ``sdkit explore MODEL`` starts the server.
"""

from sdkit.explore.app import create_app
from sdkit.explore.compute import Explorer
from sdkit.explore.point import Point, Slider, make_sliders

__all__ = ["Explorer", "Point", "Slider", "create_app", "make_sliders"]
