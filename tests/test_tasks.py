"""The one way background work starts: kept until it ends, failures reported, keyed tasks replaced."""

from __future__ import annotations

import asyncio
import logging

import pytest

from gemchat.tasks import Tasks


async def _forever() -> None:
    await asyncio.Event().wait()


def test_wait_returns_once_every_running_task_has_ended() -> None:
    async def scenario() -> list[str]:
        done: list[str] = []
        tasks = Tasks()

        async def slow() -> None:
            await asyncio.sleep(0.01)
            done.append("finished")

        tasks.start(slow())
        tasks.start(slow())
        await tasks.wait()
        return done

    assert asyncio.run(scenario()) == ["finished", "finished"]


def test_a_failed_task_is_logged_and_reported_never_swallowed(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> list[BaseException]:
        failures: list[BaseException] = []
        tasks = Tasks(on_failure=failures.append)

        async def broken() -> None:
            raise ValueError("disk on fire")

        tasks.start(broken())
        await tasks.wait()
        await asyncio.sleep(0)  # done callbacks run on the next turn
        return failures

    with caplog.at_level(logging.ERROR, logger="gemchat.tasks"):
        failures = asyncio.run(scenario())
    assert [str(f) for f in failures] == ["disk on fire"]
    assert "disk on fire" in caplog.text


def test_a_cancelled_task_is_not_a_failure() -> None:
    async def scenario() -> list[BaseException]:
        failures: list[BaseException] = []
        tasks = Tasks(on_failure=failures.append)
        task = tasks.start(_forever(), key="count")
        await asyncio.sleep(0)
        assert tasks.cancel("count") is task
        await tasks.wait()
        await asyncio.sleep(0)
        assert tasks.running("count") is None and len(tasks) == 0
        return failures

    assert asyncio.run(scenario()) == []


def test_starting_under_a_key_cancels_the_task_that_key_had() -> None:
    async def scenario() -> tuple[bool, bool]:
        tasks = Tasks()
        first = tasks.start(_forever(), key="search")
        second = tasks.start(_forever(), key="search")
        await asyncio.sleep(0)
        assert tasks.running("search") is second
        first_cancelled = first.cancelled()
        await tasks.shutdown()
        return first_cancelled, second.cancelled()

    assert asyncio.run(scenario()) == (True, True)


def test_shutdown_can_let_needed_work_finish_and_work_asked_for_later_never_runs() -> None:
    async def scenario() -> list[str]:
        done: list[str] = []
        tasks = Tasks()

        async def save() -> None:
            await asyncio.sleep(0.01)
            done.append("saved")

        tasks.start(save())
        await tasks.shutdown(cancel=False)
        late = tasks.start(save())
        await asyncio.sleep(0.02)
        assert late.cancelled()
        return done

    assert asyncio.run(scenario()) == ["saved"]
