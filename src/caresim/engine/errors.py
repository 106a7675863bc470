"""The errors a run can stop with: kept out of the compiled modules (mypyc compiles no subclass of a
builtin exception)."""


class UnstableSystemError(RuntimeError):
    """A queue grew past the scenario's limit: demand is beyond capacity."""


class RunawayError(RuntimeError):
    """The run would pass the scenario's limit on simulated events."""
