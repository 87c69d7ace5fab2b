"""Random bytes from the OS's CSPRNG, read in blocks, for the per-request hot path.

A page-cache hit needs about 80 random bytes: a request id, and for the CSRF token a mask
(and, for a new reader, a secret). ``os.urandom`` is a ``getrandom()`` system call, and
CPython lets go of the interpreter lock around it; with several threads serving, a thread
that lets go of the lock waits to get it back behind the others, so three short calls a
request were over half of a hit's wall time in py-spy under load (docs/benchmarks.md).
This reads 4 KiB at a time instead, one call per fifty or so hits.

The bytes are the OS's CSPRNG output, unchanged, and each is handed out once. Each thread
has its own block, and a forked child drops what it inherited, so two processes never
share bytes.
"""

from __future__ import annotations

import os
import threading

BLOCK = 4096


class _Block(threading.local):
    data = b""
    used = 0


_block = _Block()


def token_bytes(n: int) -> bytes:
    """``n`` fresh random bytes (as ``secrets.token_bytes``)."""
    block = _block
    start = block.used
    end = start + n
    if end > len(block.data):
        block.data = os.urandom(max(BLOCK, n))
        start, end = 0, n
    block.used = end
    return block.data[start:end]


def _forget_after_fork() -> None:
    _block.data = b""
    _block.used = 0


os.register_at_fork(after_in_child=_forget_after_fork)
