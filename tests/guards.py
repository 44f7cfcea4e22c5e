"""Test helpers that are not references: guards against a test hanging."""
import signal
from contextlib import contextmanager

import pytest


@contextmanager
def no_hang(seconds: float = 120):
    """Fail, rather than hang, if the block is still running after ``seconds``.

    A guard for inputs that once ran for minutes or hours, set far above what
    they take now: not a speed target (benchmarks/ has those).
    """
    def give_up(signum, frame):
        pytest.fail(f"still running after {seconds} s", pytrace=False)

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
