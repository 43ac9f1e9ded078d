"""The tfjs trainer's seeded data order, ported bit for bit: mulberry32 (Rng in src/core/random.ts),
deriveSeed, the Fisher–Yates shuffle and epochOrder (src/train/stage/index.ts). All integer arithmetic
is done modulo 2**32 as JavaScript's Math.imul and >>> do."""

MASK = 0xFFFFFFFF


def _imul(a: int, b: int) -> int:
    """Math.imul as an unsigned 32-bit result (the callers only use it through >>> 0 or ^)."""
    return (a * b) & MASK


class Rng:
    """mulberry32 with its whole state in one 32-bit integer."""

    def __init__(self, state: int):
        self.state = state & MASK

    def next(self) -> float:
        """Uniform float in [0, 1)."""
        self.state = (self.state + 0x6D2B79F5) & MASK
        t = self.state
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & MASK
        return ((t ^ (t >> 14)) & MASK) / 4294967296

    def int(self, n: int) -> int:
        """Uniform integer in [0, n)."""
        return int(self.next() * n)


def shuffled_indices(n: int, rng: Rng) -> list[int]:
    """A permutation of 0..n-1 drawn from rng (Fisher–Yates, from the end), as shuffledIndices."""
    out = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.int(i + 1)
        out[i], out[j] = out[j], out[i]
    return out


def derive_seed(seed: int, tag: int) -> int:
    """Mixes a seed with a tag into a new 32-bit seed (deriveSeed)."""
    h = ((seed & MASK) ^ _imul((tag + 0x9E3779B9) & MASK, 0x85EBCA6B)) & MASK
    h = _imul(h ^ (h >> 16), 0x7FEB352D)
    return (h ^ (h >> 15)) & MASK


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The seeded example order of an epoch (epochOrder)."""
    return shuffled_indices(n, Rng(derive_seed(seed, epoch + 1)))
