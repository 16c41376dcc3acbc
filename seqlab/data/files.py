"""Writing files safely: whole or not at all, with the modes the user's umask allows.

Every layer writes through these (the token cache, checkpoints, run logs, predictions), so a
crash or a full disk never leaves a half-written file under its real name.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes | str) -> None:
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise _named(e, path) from None
    try:
        os.fchmod(fd, umask_mode(0o666))  # mkstemp's 0600 would hide run files from the group
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)  # the rename itself survives a power cut
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise _named(e, path) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _named(e: OSError, path: Path) -> OSError:
    """`e` naming the file asked for, not the hidden temporary file it was written through."""
    if e.errno is None:
        return e
    return type(e)(e.errno, e.strerror, str(path)) if e.strerror else e


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


def input_problem(path: Path) -> str | None:
    """Why `path` cannot be read as an input file, in words (None when it can): missing, a
    symbolic link loop, a directory, a device or socket, or unreadable. A named pipe (FIFO,
    or bash's `<(command)`) is read like a file."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            return f"{path}: a symbolic link to {os.readlink(path)}, which does not exist"
        return f"{path}: no such file"
    except OSError as e:
        if e.errno == errno.ELOOP:
            return f"{path}: a loop of symbolic links (one points back to another); fix the link"
        return f"{path}: cannot be read ({e.strerror})"
    if stat.S_ISDIR(mode):
        return f"{path}: a directory; give a file"
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        return f"{path}: not a regular file or a pipe (a device or socket); give a file"
    if not os.access(path, os.R_OK):
        return f"{path}: cannot be read (permission denied)"
    return None
