"""A test that hangs ends its run in bounded time, saying which test it was.

A test can wait forever: on a task that swallowed its cancellation, on a lock a leaked
session holds, on a server that never answers. Nothing inside the test can notice, and
the suite would sit until CI's own limit ends the whole job without naming the test. So
a thread outside it keeps time: past the limit it prints the test's id and every thread's
stack, records the reason for `scripts/run_suites.py`, and ends the process. Ending the
run is deliberate: a hung event loop cannot be relied on to run the next test.
"""

import faulthandler
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# What a run that a hung test ended exits with (pytest's own codes stop at 5).
HUNG_EXIT_CODE = 70


class Watchdog:
    def __init__(self, seconds: float, record_reason: Callable[[str], None]) -> None:
        """Make it while pytest is not capturing output (at configure time): it keeps a
        copy of the terminal's stderr, since a test's own stderr goes to pytest's capture,
        which is never printed once the process is ended."""
        self.seconds = seconds
        self._record_reason = record_reason
        self._terminal = os.fdopen(os.dup(2), "w")

    @contextmanager
    def watching(self, test_id: str) -> Iterator[None]:
        """Runs the block; if it is still running after `seconds`, ends the process."""
        timer = threading.Timer(self.seconds, self._end_the_run, args=(test_id,))
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    def _end_the_run(self, test_id: str) -> None:
        reason = f"{test_id} ran over {self.seconds:g} s and was stopped: it hangs"
        print(f"\n{reason}. Every thread's stack:", file=self._terminal, flush=True)
        faulthandler.dump_traceback(file=self._terminal, all_threads=True)
        self._record_reason(reason)
        # Not sys.exit, which would end only this thread; nothing can be closed in order
        # anyway while the main thread is stuck.
        os._exit(HUNG_EXIT_CODE)
