"""NpyWriter: a 1-d .npy file appended to in pieces, for token streams of unknown length."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np


class NpyWriter:
    """Append to a 1-d .npy file whose length is unknown until the end: the header has a fixed
    size and is rewritten on close (the file is then an ordinary .npy for np.load / mmap)."""

    HEADER = 128  # bytes, a multiple of 64 as the .npy format asks, room for any length

    def __init__(self, path: Path, dtype):
        self.path, self.dtype, self.n = Path(path), np.dtype(dtype), 0
        self.f = open(self.path, "wb")  # noqa: SIM115  (closed in close())
        self.f.write(b"\0" * self.HEADER)

    def append(self, ids: np.ndarray) -> None:
        self.f.write(np.ascontiguousarray(ids, dtype=self.dtype).tobytes())
        self.n += len(ids)

    def close(self) -> None:
        self.f.seek(0)
        self.f.write(npy_header(self.dtype, self.n, self.HEADER))
        self.f.close()

    def __enter__(self) -> NpyWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def npy_header(dtype: np.dtype, n: int, size: int) -> bytes:
    """A version 1.0 .npy header of exactly `size` bytes for a 1-d array of n items."""
    d = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (n,)}
    body = repr(d).encode("latin1")
    pad = size - 10 - len(body) - 1
    if pad < 0:
        raise ValueError(f"npy header for {n} items does not fit in {size} bytes")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", size - 10) + body + b" " * pad + b"\n"
