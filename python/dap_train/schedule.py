"""Learning-rate schedule of the tfjs trainer (src/train/stage/schedule.ts), ported: linear warm-up from 0 over
`warmup_steps` as lr·(s+1)/(w+1), then constant, linear decay to 0, or cosine decay to 0 at `total_steps`."""

import math


def learning_rate_at(step: int, lr: float, warmup_steps: int, total_steps: int, kind: str) -> float:
    """Learning rate of optimizer step `step` (0-based: the first update uses step 0)."""
    if warmup_steps > 0 and step < warmup_steps:
        return lr * (step + 1) / (warmup_steps + 1)
    if kind == "constant":
        return lr
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, max(0.0, (step - warmup_steps) / span))
    if kind == "linear":
        return lr * (1 - progress)
    if kind == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * progress))
    raise ValueError(f'schedule: expected constant, linear or cosine, got "{kind}"')


def js_round(x: float) -> int:
    """JavaScript's Math.round (halves round up), used for warm-up steps = round(ratio · total)."""
    return math.floor(x + 0.5)
