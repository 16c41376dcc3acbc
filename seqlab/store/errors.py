"""The store's one error type, below both the checkpoint code and the checks it runs.

`seqlab.store.validate` raises it and `seqlab.store.checkpoint` re-raises it: defining it here
keeps those two from importing each other.
"""

from __future__ import annotations


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: missing, corrupt, or of another format."""
