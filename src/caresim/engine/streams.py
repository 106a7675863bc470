"""Named random streams: keyed by a stable hash of the name and the replication, never by order."""

from __future__ import annotations

import hashlib

import numpy as np


def stable_hash(name: str) -> int:
    """A 64-bit integer from a name, the same on every machine and Python version."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def stream(root_seed: int, name: str, replication: int, *keys: int) -> np.random.Generator:
    """The generator for stream ``name`` in ``replication``; extra integer keys (e.g. a patient) nest inside it."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([root_seed, stable_hash(name), replication, *keys])))
