"""APScheduler in the process: it only decides *when* to run
:func:`bot.schedule.reminders.run_due`.

No job store is persisted (nothing is pickled): the one wake-up job is
derived from the database at start, after every run and after every change
(:func:`changed`), and a periodic safety tick covers anything missed (a
change made by another replica, a clock jump). Exactly-once delivery comes
from the claims in the database, not from the scheduler.

Stopping (the bot closing: the console's input ended, a server shutting
down) waits a bounded time for a pass under way, so a reminder being sent is
finished and recorded rather than cut off between its claim and its send
(see :func:`bot.schedule.reminders.run_due` for what happens if the wait runs
out). The passes run on an executor of our own (:class:`PassExecutor`):
APScheduler's asyncio executor cancels whatever it runs when the scheduler
shuts down, one turn of the event loop later, including a pass handed to it
just before the stop that had not started yet; that cancelled pass was
logged as an ERROR with a traceback on every quick console run.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.executors.base import BaseExecutor, run_coroutine_job
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.schedule import reminders
from bot.schedule.reminders import Sent, run_pass

if TYPE_CHECKING:
    from bot.infra.runtime import Runtime

log = logging.getLogger(__name__)

#: Run even if nothing seems due: picks up changes made by other replicas.
SAFETY_TICK_SECONDS = 300


class PassExecutor(BaseExecutor):
    """Runs the runner's (coroutine) jobs as tasks on the event loop, like
    APScheduler's AsyncIOExecutor, but keeps them in :attr:`passes` and never
    cancels them itself: :meth:`ScheduleRunner.stop` waits for them (bounded)
    and decides what to cut off."""

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        self._loop = scheduler._eventloop
        self.passes: set[asyncio.Task[Any]] = set()

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        task = self._loop.create_task(
            run_coroutine_job(job, job._jobstore_alias, run_times, self._logger.name)
        )
        self.passes.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self.passes.discard(t)
            if t.cancelled():
                return  # cut off by a stop past its grace: the runner has said so
            exc = t.exception()
            if exc is not None:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, t.result())

        task.add_done_callback(done)

    def shutdown(self, wait: bool = True) -> None:
        """Nothing to do: the runner has waited for (or cut off) its passes."""


class ScheduleRunner:
    """Owns the AsyncIOScheduler of one bot and its single wake-up job."""

    def __init__(self, bot: Runtime) -> None:
        self.bot = bot
        self.executor = PassExecutor()
        self.scheduler = AsyncIOScheduler(timezone=UTC, executors={"default": self.executor})
        self._lock = asyncio.Lock()
        self.runs = 0
        self.last_sent: list[Sent] = []
        self.stopping = False

    def start(self) -> None:
        self.scheduler.start()
        self.scheduler.add_job(
            self.tick,
            "interval",
            seconds=SAFETY_TICK_SECONDS,
            id="safety",
            next_run_time=datetime.now(UTC),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )

    async def tick(self) -> None:
        """Run what is due, then arm the wake-up for the next due time."""
        if self.stopping:
            return
        async with self._lock:
            if self.stopping:
                return
            try:
                done = await run_pass(self.bot)
                self.last_sent, wake = done.sent, done.wakeup
            except asyncio.CancelledError:
                if not self.stopping:
                    raise
                # cut off by a stop past its grace, which has logged a warning:
                # end the pass quietly instead of as a job error with a traceback
                log.info("reminder pass cut off at shutdown")
                return
            except Exception:
                log.exception("reminder run failed; the safety tick will try again")
                return
            self.runs += 1
            if not self.stopping:
                self._arm(wake)

    def _arm(self, when: datetime | None) -> None:
        if when is None:
            return
        # Due times are on the bot's clock; the scheduler runs on the wall clock.
        delay = max((when - self.bot.clock.now()).total_seconds(), 0.0)
        self.wake_in(delay)

    def changed(self) -> None:
        """Something that shapes the schedule changed: recompute soon."""
        if self.scheduler.running:
            self.wake_in(0.05)

    def wake_in(self, seconds: float) -> None:
        self.scheduler.add_job(
            self.tick,
            "date",
            run_date=datetime.now(UTC) + timedelta(seconds=seconds),
            id="wake",
            replace_existing=True,
            misfire_grace_time=None,
        )

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def stop(self, grace: float | None = None) -> None:
        """No new passes; give those under way ``grace`` seconds to finish,
        then shut the scheduler down. A pass handed to the executor but not
        started yet sees :attr:`stopping` and returns at once; one still
        running after the grace is cut off (its claims are handed back, see
        :func:`bot.schedule.reminders.run_due`) with a warning."""
        self.stopping = True
        if self.scheduler.running:
            self.scheduler.pause()
        wait = reminders.STOP_GRACE_SECONDS if grace is None else grace
        deadline = asyncio.get_running_loop().time() + wait
        passes = {t for t in getattr(self.executor, "passes", ()) if not t.done()}
        late = False
        if passes:
            _, left = await asyncio.wait(passes, timeout=wait)
            if left:
                late = True
                for task in left:
                    task.cancel()
                await asyncio.wait(left)
        if self._lock.locked() and not late:  # a pass run directly (finish), not by the scheduler
            try:
                remaining = max(deadline - asyncio.get_running_loop().time(), 0.0)
                await asyncio.wait_for(self._lock.acquire(), remaining)
            except TimeoutError:
                late = True
            else:
                self._lock.release()
        if late:
            log.warning("a reminder pass was still running after %.0f s at shutdown", wait)
        self.shutdown()

    async def finish(self) -> None:
        """Stop as :meth:`stop` does (a pass under way finishes), then run what
        is due once more: a short-lived process (the console at the end of
        piped input) sends what fell due before it quits."""
        await self.stop()
        self.stopping = False
        try:
            await self.tick()
        finally:
            self.stopping = True


def start_scheduler(bot: Runtime) -> ScheduleRunner:
    """Start the reminder scheduler for a bot (inside its running event loop)."""
    runner = ScheduleRunner(bot)
    runner.start()
    bot.spawn(_lifetime(runner), name="loop:schedule")
    return runner


async def _lifetime(runner: ScheduleRunner) -> None:
    """Stop the scheduler when the bot closes (its tasks are cancelled),
    letting a pass under way finish first."""
    try:
        await asyncio.Event().wait()
    finally:
        await runner.stop()


def changed(bot: Runtime) -> None:
    """Something that shapes the schedule changed: recompute soon (the
    composition root points ``bot.schedule_changed`` at the running loop)."""
    bot.schedule_changed()
