"""clarion.lib.randomness: CSPRNG bytes read in blocks, each handed out once."""

import os
import threading

from clarion.lib.randomness import BLOCK, token_bytes


def test_each_call_gets_fresh_bytes_across_block_boundaries():
    seen = [token_bytes(16) for _ in range(3 * BLOCK // 16)]
    assert all(len(b) == 16 for b in seen)
    assert len(set(seen)) == len(seen)
    assert len(token_bytes(BLOCK + 1)) == BLOCK + 1  # larger than a block


def test_threads_do_not_share_bytes():
    out = []

    def take():
        out.extend(token_bytes(16) for _ in range(200))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(out)) == len(out) == 800


def test_a_forked_child_never_hands_out_the_parents_next_bytes():
    token_bytes(16)  # the parent now holds a part-used block
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next bytes and leave at once
        os.write(write, token_bytes(16))
        os._exit(0)
    os.close(write)
    child = os.read(read, 16)
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 16
    assert child != token_bytes(16)
