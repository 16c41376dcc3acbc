"""Ctrl-C and SIGTERM as a request to stop at the next step boundary.

Python's default turns SIGINT into a KeyboardInterrupt wherever the program happens to be:
inside a step (half an optimizer update), while batches load, while a checkpoint is
written. A run stopped there cannot continue exactly. So while the Trainer fits, the two
signals only set a flag; the Trainer looks at it between steps, between validation batches
and after each save, commits `last` at a clean position and stops. A second signal means
"now": it raises KeyboardInterrupt at once (the checkpoints committed before are kept).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """`with StopRequest() as stop: ... if stop.requested: ...`: the handlers are installed
    on entering (in the main thread only: Python allows no other) and restored on leaving."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopRequest:
        self.requested = False
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:  # the second one: stop now
            raise KeyboardInterrupt
        self.requested = True
