"""corridors: freight corridors between China, Central Asia, the Middle East and Europe.

The static model — nodes, legs, corridors, the bundled sourced data, routing — behind a
small API::

    import corridors
    net = corridors.load_network()                 # the bundled network
    s = corridors.summarize_corridor(net, "northern")
    best = corridors.route(net, "CN_CHENGDU", "PL_LODZ", avoid=["RU"])[0]
"""

from corridors.distributions import Distribution
from corridors.errors import CorridorsError, DataError, InputError
from corridors.loader import bundled_data_dir, load_network
from corridors.model import Corridor, Facility, Leg, Network, Node
from corridors.routing import Route, route
from corridors.summary import PathSummary, summarize_corridor, summarize_path

__version__ = "0.1.0"

__all__ = [
    "Corridor",
    "CorridorsError",
    "DataError",
    "Distribution",
    "Facility",
    "InputError",
    "Leg",
    "Network",
    "Node",
    "PathSummary",
    "Route",
    "__version__",
    "bundled_data_dir",
    "load_network",
    "route",
    "summarize_corridor",
    "summarize_path",
]
