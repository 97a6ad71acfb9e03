"""Short kernel launches, a progress bar and Ctrl-C for long ensemble runs.

A long ensemble is run as a sequence of *launches* (path ranges) so that something can happen
between them: the progress bar is updated and a Ctrl-C, which Python only sees once a compiled
kernel has returned, is acted on.  Splitting the paths never changes a result: random streams
depend only on ``(seed, path)`` and moments are reduced in blocks of ``BLOCK`` paths aligned to
global path indices (every launch but the last is a whole number of blocks).

:class:`LaunchPlan` chooses the launch sizes: on a backend whose cost grows with the number of
paths (the CPU backends), each launch is sized from the measured rate of the previous ones to take
about ``target_s`` seconds (0.5 s), so the bar moves and Ctrl-C is honoured within about a second
even when one chunk of paths takes minutes.  On a backend whose launch cost hardly depends on the
number of paths (a GPU), small launches would only waste it, so the plan keeps ``chunk_size``.

:class:`Progress` is a ``tqdm.auto`` bar (a widget in Jupyter, text on a terminal): paths done of
the total, escapes so far, paths per second and the time left.
"""
from __future__ import annotations

import math
import sys
import time

__all__ = ["LaunchPlan", "Progress", "progress_default"]

#: Seconds one launch should take when the plan adapts (progress and Ctrl-C granularity).
TARGET_S = 0.5
#: A launch grows at most this factor over the previous one (the first launch includes compilation,
#: so its rate says little).
MAX_GROWTH = 8


class LaunchPlan:
    """Path ranges ``(lo, hi)`` covering ``0 … n_paths``, each a multiple of ``block`` paths but the last.

    Iterate over it; the time between two items is taken as the cost of the previous launch.

    Parameters
    ----------
    n_paths : int
    max_size : int
        Largest launch (the memory bound ``chunk_size``, a multiple of ``block``).
    block : int
        Reduction block; every launch size is a multiple of it.
    adapt : bool
        Size launches to take about ``target_s`` seconds (default :data:`TARGET_S`; CPU backends);
        otherwise every launch is ``max_size`` paths.
    """

    def __init__(self, n_paths: int, max_size: int, block: int, *, adapt: bool = True,
                 target_s: float | None = None):
        self.n_paths, self.max_size, self.block = n_paths, max_size, block
        self.adapt, self.target_s = adapt, TARGET_S if target_s is None else target_s

    def _next_size(self, size: int, done: int, elapsed: float) -> int:
        if not self.adapt:
            return self.max_size
        rate = done / elapsed if elapsed > 0 else math.inf  # paths per second so far
        want = min(rate * self.target_s, size * MAX_GROWTH, self.max_size)
        return max(self.block, int(want) // self.block * self.block)

    def __iter__(self):
        lo = 0
        size = self.block if self.adapt else self.max_size
        t0 = time.perf_counter()
        while lo < self.n_paths:
            hi = min(self.n_paths, lo + size)
            yield lo, hi
            lo = hi
            size = self._next_size(size, lo, time.perf_counter() - t0)


def progress_default() -> bool:
    """Whether a progress bar is shown by default: stderr is a terminal, or a Jupyter kernel runs."""
    return sys.stderr.isatty() or "ipykernel" in sys.modules


class Progress:
    """A progress bar over paths with the escapes so far; a no-op when ``enabled`` is False.

    ``enabled`` may also be a function ``f(n_paths, n_escaped)``: it is then called after each launch
    instead of drawing a bar (how a sweep's worker reports to the bar of the process that started
    it).  ``delay_s``: the bar appears only once the run has taken that long (short runs print nothing).
    """

    def __init__(self, total: int, *, enabled, desc: str = "paths", delay_s: float = 2.0,
                 initial: int = 0):
        self._bar = None
        self._report = enabled if callable(enabled) else None
        self.escaped = 0
        if enabled and self._report is None:
            from tqdm.auto import tqdm  # noqa: PLC0415 (only when a bar is wanted)

            self._bar = tqdm(total=total, initial=initial, unit="path", unit_scale=True, desc=desc,
                             delay=delay_s, dynamic_ncols=True, smoothing=0.1, mininterval=0.5)

    def update(self, n_paths: int, n_escaped: int = 0) -> None:
        """Add ``n_paths`` finished paths, ``n_escaped`` of which escaped."""
        self.escaped += n_escaped
        if self._report is not None:
            self._report(n_paths, n_escaped)
        if self._bar is not None:
            self._bar.set_postfix_str(f"escaped {self.escaped}", refresh=False)
            self._bar.update(n_paths)

    def write(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
