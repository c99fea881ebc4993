"""Reproducible randomness for randomized (fuzz) tests.

The seed is $FUZZ_SEED when set, so a failure can be replayed exactly; otherwise a fresh one per run.
Put the seed in the assertion message so a failure report says how to replay it.
"""

import os
import random


def fuzz_seed() -> int:
    from_env = os.environ.get("FUZZ_SEED", "")
    if from_env:
        if not from_env.isdigit() or int(from_env) > 0xFFFF_FFFF:
            raise ValueError(f"FUZZ_SEED must be an integer in 0..4294967295, got {from_env!r}")
        return int(from_env)
    return random.SystemRandom().randrange(0x1_0000_0000)


def seeded_random(seed: int) -> random.Random:
    """Test data only: not for anything that must be unpredictable."""
    return random.Random(seed)
