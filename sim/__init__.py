"""sim: the SimPy engine that runs container trains through the corridor network (to come)."""
