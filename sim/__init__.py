"""sim: the SimPy engine that runs container trains through the corridor network.

import sim
scenario = sim.load_scenario()                 # the bundled baseline (or a path)
result = sim.simulate(scenario, replications=10, seed=1)
result.summary.services["northern-chengdu-lodz"].transit_d.mean   # a sim.summary.RunSummary
result.summary.to_json()                       # summary.json's content
"""

from sim.engine import Replication, run_replication
from sim.records import Event, TrainRecord, Trains, Visits, WaitReason
from sim.runner import RunResult, simulate, write_run
from sim.scenario import Scenario, Service, load_scenario

__all__ = [
    "Event",
    "Replication",
    "RunResult",
    "Scenario",
    "Service",
    "TrainRecord",
    "Trains",
    "Visits",
    "WaitReason",
    "load_scenario",
    "run_replication",
    "simulate",
    "write_run",
]
