"""Writing files safely: whole or not at all, with the modes the user's umask allows.

Every layer writes through these (the token cache, checkpoints, run logs, predictions), so a
crash or a full disk never leaves a half-written file under its real name.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes | str) -> None:
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, umask_mode(0o666))  # mkstemp's 0600 would hide run files from the group
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)  # the rename itself survives a power cut
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def umask_mode(mode: int) -> int:
    """`mode` as the user's umask lets a new file (0o666) or directory (0o777) have it."""
    mask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mode & ~mask


def fsync_dir(directory: Path) -> None:
    """Flush a directory's entries (renames) to disk, where the OS allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
