"""The simpy internals the engine's kernel relies on (caresim/engine/kernel.py).

The kernel pushes its own ``Call`` objects onto ``Environment._queue`` with the key a ``Timeout``
would get, (``_now`` + delay, priority, ``next(_eid)``), and ``Environment.step`` runs them. If a simpy
release changes any of this, these tests say what changed; the pin in pyproject.toml keeps simpy
on the version they were written for.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from numbers import Real

import pytest
import simpy
from simpy.events import NORMAL, URGENT

from caresim.engine.calendar import Calendar
from caresim.engine.effects import WorldEffects
from caresim.engine.kernel import Call, Kernel
from caresim.scenario.schema import Scenario


@pytest.fixture()
def kernel(short: Scenario) -> Kernel:
    calendar = Calendar(short.run.start, short.run.warm_up_days, short.run.days)
    return Kernel(short, calendar, WorldEffects(short, (), 0, calendar))


def test_environment_has_the_private_attributes_the_kernel_uses():
    env = simpy.Environment()
    for name, kind in (("_queue", list), ("_eid", itertools.count), ("_now", Real)):
        assert hasattr(env, name), f"simpy.Environment no longer has {name}: update Kernel.after and Kernel.now"
        assert isinstance(getattr(env, name), kind), (
            f"simpy.Environment.{name} is now {type(getattr(env, name)).__name__}, not {kind.__name__}: "
            "update Kernel.after and Kernel.now")


def test_a_timeout_is_queued_with_the_key_the_kernel_builds():
    env = simpy.Environment()
    timeout = env.timeout(2.5)
    assert len(env._queue) == 1, "a Timeout no longer goes straight onto Environment._queue"
    key = env._queue[0][:3]
    assert key[0] == 2.5 and key[1] == NORMAL and isinstance(key[2], int), (
        f"simpy now queues a Timeout as {env._queue[0]!r}, not (time, priority, id, event): update Kernel.after")
    assert env._queue[0][3] is timeout


def test_step_runs_a_call_through_callbacks_and_ok():
    env = simpy.Environment()
    seen = []
    env._queue.append((1.0, NORMAL, next(env._eid), Call(lambda event: seen.append(event.value), "patient")))
    env.step()
    assert seen == ["patient"], "Environment.step no longer runs an event's callbacks with the event"
    assert env._now == 1.0, "Environment.step no longer sets _now from the queue entry"


def test_calls_run_at_their_times_in_the_order_of_equivalent_timeouts(kernel: Kernel):
    env = kernel.env
    order: list[tuple[str, float]] = []

    def call(event: Call[str]) -> None:  # run by simpy's loop here, so simpy's clock, not the kernel's
        order.append((event.value, env.now))

    def timeout(name: str, delay: float) -> None:
        env.timeout(delay, name).callbacks.append(lambda e: order.append((e.value, env.now)))

    def urgent_event(name: str, delay: float) -> None:  # scheduled as simpy schedules its urgent events
        event = simpy.Event(env)
        event._ok, event._value = True, name
        env.schedule(event, URGENT, delay)
        event.callbacks.append(lambda e: order.append((e.value, env.now)))

    kernel.after(1.0, call, "call 1")
    timeout("timeout 1", 1.0)
    kernel.after(1.0, call, "call 2")
    kernel.after(0.5, call, "call 0.5")
    urgent_event("urgent event", 1.0)
    kernel.after(1.0, call, "urgent call", URGENT)
    env.run(until=2.0)
    assert order == [("call 0.5", 0.5), ("urgent event", 1.0), ("urgent call", 1.0), ("call 1", 1.0),
                     ("timeout 1", 1.0), ("call 2", 1.0)], (
        f"kernel calls and simpy events no longer interleave by (time, priority, order scheduled): {order}")
    assert kernel.events == 4


def test_kernel_refuses_a_negative_delay(kernel: Kernel):
    with pytest.raises(ValueError, match="negative delay"):
        kernel.after(-1.0, lambda _event: None, None)


def _arrivals_order(kernel: Kernel, as_stream: bool) -> tuple[list[tuple[str, float]], int]:
    """Arrivals at tied times among calls of both priorities, a zero-delay hand-over after one of them."""
    order: list[tuple[str, float]] = []
    times = [0.5, 1.0, 1.0, 1.0 + 1e-12, 2.0]

    def call(event: Call[str]) -> None:
        order.append((event.value, kernel.now))

    def arrive(k: int) -> None:
        order.append((f"arrival {k}", kernel.now))
        if k == 1:
            kernel.after(0.0, call, "hand-over")

    if as_stream:
        kernel.stream(times, arrive)
    else:  # the reference: each arrival schedules the next with `after`
        def chained(event: Call[int]) -> None:
            arrive(event.value)
            if event.value + 1 < len(times):
                kernel.after(times[event.value + 1] - kernel.now, chained, event.value + 1)
        kernel.after(times[0], chained, 0)
    kernel.after(1.0, call, "call at 1")
    kernel.after(1.0, call, "urgent call at 1", URGENT)
    kernel.after(2.0, call, "call at 2")
    kernel.run()
    assert kernel.env.now == kernel.now == kernel.calendar.end, "simpy's clock no longer ends where the kernel's does"
    return [entry for entry in order if entry[1] <= 2.0], kernel.events


def test_an_arrival_stream_runs_in_the_order_of_arrivals_scheduling_each_other(short: Scenario):
    def fresh() -> Kernel:
        calendar = Calendar(short.run.start, short.run.warm_up_days, short.run.days)
        return Kernel(short, calendar, WorldEffects(short, (), 0, calendar))

    streamed, chained = _arrivals_order(fresh(), True), _arrivals_order(fresh(), False)
    assert streamed == chained
    assert [name for name, _ in streamed[0]] == [  # arrival 1 was keyed at 0.5, after "call at 1" was queued
        "arrival 0", "urgent call at 1", "call at 1", "arrival 1", "hand-over", "arrival 2", "arrival 3",
        "call at 2", "arrival 4"]


Due = tuple[float, int]  # when a call is due, and its number


def _random_calls(now: Callable[[], float], after: Callable[[float, int, Due], None]
                  ) -> tuple[list[Due], Callable[[Due], None]]:
    """300 calls due at random (now, in whole days, in fractions, up to 40 days ahead; both priorities), each
    scheduling another with odds 0.6: the list the calls append to as they run, and what runs one."""
    rng, ran, numbers = random.Random(3), [], itertools.count()

    def schedule() -> None:
        delay = rng.choice([0.0, 1.0, 2.0, float(rng.randint(1, 40)), rng.uniform(0, 3), rng.uniform(0, 40)])
        after(delay, rng.choice([NORMAL, URGENT]), (now() + delay, next(numbers)))

    def run(value: Due) -> None:
        assert value[0] == now()
        ran.append(value)
        if rng.random() < 0.6:
            schedule()

    for _ in range(300):
        schedule()
    return ran, run


def test_calls_due_days_ahead_run_as_if_all_were_on_the_heap(kernel: Kernel):
    """Calls due ``AHEAD`` days or more wait in day buckets, out of the heap, until the tick the day before: they
    still run in the order of one heap keyed (time, priority, order scheduled), ties at whole days and calls
    scheduled by other calls included, and those due after the end never run."""
    ran, run = _random_calls(lambda: kernel.now, lambda delay, priority, value: kernel.after(
        delay, lambda event: run(event.value), value, priority))
    kernel.run()

    heap: list[tuple[float, int, int, Due]] = []
    order, clock = itertools.count(), [0.0]
    expected, run_reference = _random_calls(lambda: clock[0], lambda delay, priority, value: heapq.heappush(
        heap, (clock[0] + delay, priority, next(order), value)))
    stop = (kernel.calendar.end, URGENT, 299.5)  # the kernel queues its end after the first 300 calls
    while heap[0][:3] < stop:
        clock[0], *_, value = heapq.heappop(heap)
        run_reference(value)
    assert ran == expected
    assert len(ran) > 500 and len(heap) > 0
