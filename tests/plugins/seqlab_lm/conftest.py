"""Fixtures of the LM plugin's tests."""

import contextlib

import pytest

from seqlab import Trainer


@pytest.fixture
def ctrl_c_at_step(monkeypatch):
    """`with ctrl_c_at_step(30): ...`: the 30th training step inside presses Ctrl-C."""

    @contextlib.contextmanager
    def press(n: int):
        real_step, calls = Trainer._train_step, []

        def step(self, batch):
            calls.append(1)
            if len(calls) == n:
                raise KeyboardInterrupt
            return real_step(self, batch)

        monkeypatch.setattr(Trainer, "_train_step", step)
        try:
            yield
        finally:
            monkeypatch.setattr(Trainer, "_train_step", real_step)

    return press
