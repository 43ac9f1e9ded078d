"""Inputs and helpers shared by the losses (port of src/train/losses/types.ts and common.ts): per-sequence
log-probs, reference log-probs, the TRL-named pairwise metrics. Metrics are detached scalars."""

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F


@dataclass
class SeqLogps:
    """Per-sequence policy log-probs over completion tokens (+ per-row token statistics for the metrics)."""

    sum: torch.Tensor  # (B,) summed completion log-prob
    mean: torch.Tensor  # (B,) sum / max(count, 1)
    count: torch.Tensor  # (B,) completion token count
    stats: Optional[dict] = None  # {"entropy", "meanLogit", "correct"}: (B,) sums over the completion tokens


@dataclass
class RefLogps:
    """Reference log-probs of the same sequences (precomputed constants or a live no-grad pass)."""

    sum: torch.Tensor  # (B,)
    mean: torch.Tensor  # (B,)


@dataclass
class PairInputs:
    chosen: SeqLogps
    rejected: SeqLogps
    ref_chosen: Optional[RefLogps] = None
    ref_rejected: Optional[RefLogps] = None


@dataclass
class RankingInputs:
    """All N sequences of G groups flattened; sequence better[k] is ranked above worse[k]."""

    logps: SeqLogps  # (N,)
    better: torch.Tensor  # (P,) int64
    worse: torch.Tensor  # (P,) int64
    best: torch.Tensor  # (G,) int64: each group's best sequence (first of its best rank)
    groups: int


@dataclass
class SftInputs:
    logps: SeqLogps  # (B,)


@dataclass
class UnpairedInputs:
    logps: SeqLogps  # (B,)
    ref: RefLogps  # (B,)
    labels: torch.Tensor  # (B,) float 1 = desirable, 0 = undesirable
    kl_policy: Optional[torch.Tensor] = None  # (M,) mismatched sums
    kl_ref: Optional[torch.Tensor] = None  # (M,)


def log_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """log σ(x) = −softplus(−x), stable; gradient σ(−x) (½ at 0)."""
    return F.logsigmoid(x)


def require_ref(ref: Optional[RefLogps], method: str) -> RefLogps:
    if ref is None:
        raise ValueError(f'loss "{method}" needs reference log-probs, but none were supplied')
    return ref


def pair_metrics(chosen_rewards, rejected_rewards, chosen_logps, rejected_logps) -> dict:
    """TRL's pairwise metrics (batch means of detached values)."""
    c, r = chosen_rewards.detach(), rejected_rewards.detach()
    return {
        "rewards/chosen": c.mean(),
        "rewards/rejected": r.mean(),
        "rewards/accuracies": (c > r).float().mean(),
        "rewards/margins": (c - r).mean(),
        "logps/chosen": chosen_logps.detach().mean(),
        "logps/rejected": rejected_logps.detach().mean(),
    }
