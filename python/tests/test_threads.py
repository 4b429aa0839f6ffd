"""Python threads can analyse conversations at once: the GIL is released while Rust works, the
results are the same as one at a time, and one conversation shared by threads stays consistent."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

import commonground as cg
from conftest import EXAMPLE


def synthetic(participants: int, statements: int, density: float, seed: int) -> cg.Conversation:
    """Three camps, each with its own stance on every statement, with noise and missing votes.
    (Three, so that the second principal component is clear and the PCA converges quickly.)"""
    rng = np.random.default_rng(seed)
    camp = rng.integers(0, 3, participants)
    stance = rng.choice([-1, 1], (3, statements))
    voted = rng.random((participants, statements)) < density
    rows, cols = np.nonzero(voted)
    votes = stance[camp[rows], cols]
    noise = rng.random(len(votes))
    votes = np.where(noise < 0.15, 0, np.where(noise < 0.3, -votes, votes))
    return cg.Conversation.from_votes((rows.astype(np.int64), cols.astype(np.int64), votes.astype(np.float64)))


def test_the_gil_is_released_while_analysing():
    conversation = synthetic(80_000, 200, 0.1, seed=1)
    finished = threading.Event()
    durations = {}

    def work():
        start = time.perf_counter()
        conversation.analyze()
        durations["analyze"] = time.perf_counter() - start
        finished.set()

    worker = threading.Thread(target=work)
    worker.start()
    gaps, last = [], time.perf_counter()
    while not finished.is_set():
        time.sleep(0.001)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    worker.join()
    assert durations["analyze"] > 0.2, "the conversation is too small to tell"
    # Holding the GIL for the whole analysis would stall this loop for its whole duration.
    assert max(gaps) < durations["analyze"] / 2, (max(gaps), durations["analyze"])


def test_threads_analysing_different_conversations_get_the_serial_results():
    votes = pd.read_csv(EXAMPLE / "votes.csv")
    subsets = [votes[votes["voter-id"] % 4 != k] for k in range(4)]
    conversations = [cg.Conversation.from_votes(s) for s in subsets] + [synthetic(3000, 100, 0.3, seed=s) for s in range(4)]
    serial = [c.analyze(seed=1).to_json() for c in conversations]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(lambda c: c.analyze(seed=1).to_json(), conversations))
    assert parallel == serial


def test_threads_sharing_one_conversation_are_serialised():
    conversation = cg.read_polis(EXAMPLE)
    expected = conversation.analyze().to_json()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: conversation.analyze().to_json(), range(8)))
    assert all(r == expected for r in results)
    batches = [{"participant": [100_000 + i], "statement": [0], "vote": [1]} for i in range(6)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        ticks = sorted(a.tick for a in pool.map(conversation.update, batches))
    assert ticks == [2, 3, 4, 5, 6, 7]
    assert conversation.n_votes == 49997 + 6
