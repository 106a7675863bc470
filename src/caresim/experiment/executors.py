"""Run an experiment's replications serially, in local processes, or on a Dask cluster.

Each replication is an independent task keyed by its number; its random streams depend only on the
scenario seed and that number, so every executor and worker count gives bit-for-bit the same results.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from caresim.experiment.plan import Plan
from caresim.experiment.replication import WorldResult, run_replication

EXECUTORS = ("serial", "processes", "dask")


def _progress(enabled: bool) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), disable=not enabled, transient=False)


def _serial(plan: Plan) -> Iterator[list[WorldResult]]:
    for replication in range(plan.replications):
        yield run_replication(plan, replication)


def _processes(plan: Plan, workers: int) -> Iterator[list[WorldResult]]:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_replication, plan, r) for r in range(plan.replications)]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _dask(plan: Plan, scheduler: str) -> Iterator[list[WorldResult]]:
    from distributed import Client, LocalCluster
    from distributed import as_completed as dask_completed

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) \
        if scheduler == "local" else None
    with Client(cluster or scheduler) as client:
        shared = client.scatter(plan, broadcast=True)
        futures = [client.submit(run_replication, shared, r, key=f"caresim-replication-{r}-{plan.seed}", pure=False)
                   for r in range(plan.replications)]
        try:
            for future in dask_completed(futures):
                yield future.result()
        finally:
            client.cancel(futures)
    if cluster is not None:
        cluster.close()


def execute(plan: Plan, executor: str = "processes", workers: int | None = None, scheduler: str | None = None,
            progress: bool = True, description: str = "Replications") -> list[list[WorldResult]]:
    """All replications of ``plan``, ordered by replication number, with one progress bar across workers."""
    if scheduler:
        executor = "dask"
    workers = workers or os.cpu_count() or 1
    if executor == "processes" and (workers == 1 or plan.replications == 1):
        executor = "serial"
    runs = {"serial": lambda: _serial(plan), "processes": lambda: _processes(plan, workers),
            "dask": lambda: _dask(plan, scheduler or "local")}[executor]()
    results: list[list[WorldResult]] = []
    with _progress(progress) as bar:
        task = bar.add_task(f"{description} ({len(plan.worlds)} worlds each)", total=plan.replications)
        for replication in runs:
            results.append(replication)
            bar.advance(task)
    return sorted(results, key=lambda worlds: worlds[0].replication)
