"""Reference-based pairwise losses (DPO family), port of src/train/losses/preference.ts. r = β·(log πθ −
log πref) over a whole completion; Δ = log-ratio(chosen) − log-ratio(rejected). Rewards as TRL reports
them: β·(policy − reference) log-probs (sums; length-averaged for IPO, matching its Δ̄)."""

import torch

from .common import PairInputs, log_sigmoid, pair_metrics, require_ref


def _log_ratios(x: PairInputs, method: str, averaged: bool):
    rc, rr = require_ref(x.ref_chosen, method), require_ref(x.ref_rejected, method)
    if averaged:
        return x.chosen.mean - rc.mean, x.rejected.mean - rr.mean
    return x.chosen.sum - rc.sum, x.rejected.sum - rr.sum


def _finish(per_row, lc, lr, x: PairInputs, hp: dict, averaged: bool):
    policy_c = x.chosen.mean if averaged else x.chosen.sum
    policy_r = x.rejected.mean if averaged else x.rejected.sum
    return per_row.mean(), pair_metrics(lc * hp["beta"], lr * hp["beta"], policy_c, policy_r)


def dpo_loss(x: PairInputs, hp: dict):
    """DPO (Rafailov et al. 2023): −log σ(βΔ)."""
    lc, lr = _log_ratios(x, "dpo", False)
    logits = (lc - lr) * hp["beta"]  # (B,)
    return _finish(-log_sigmoid(logits), lc, lr, x, hp, False)


def cdpo_loss(x: PairInputs, hp: dict):
    """Conservative DPO: −(1−ε) log σ(βΔ) − ε log σ(−βΔ)."""
    eps = hp["labelSmoothing"]
    lc, lr = _log_ratios(x, "cdpo", False)
    logits = (lc - lr) * hp["beta"]
    per_row = -(log_sigmoid(logits) * (1 - eps) + log_sigmoid(-logits) * eps)
    return _finish(per_row, lc, lr, x, hp, False)


def robust_loss(x: PairInputs, hp: dict):
    """Robust DPO: [−(1−ε) log σ(βΔ) + ε log σ(−βΔ)] / (1 − 2ε), ε < 0.5."""
    eps = hp["labelSmoothing"]
    if not (0 <= eps < 0.5):
        raise ValueError(f"robust: labelSmoothing ε must be in [0, 0.5), got {eps}")
    lc, lr = _log_ratios(x, "robust", False)
    logits = (lc - lr) * hp["beta"]
    num = log_sigmoid(logits) * -(1 - eps) + log_sigmoid(-logits) * eps
    return _finish(num / (1 - 2 * eps), lc, lr, x, hp, False)


def ipo_loss(x: PairInputs, hp: dict):
    """IPO: (Δ̄ − 1/(2β))², Δ̄ from length-averaged log-probs."""
    lc, lr = _log_ratios(x, "ipo", True)
    d = (lc - lr) - 1 / (2 * hp["beta"])
    return _finish(d * d, lc, lr, x, hp, True)


def hinge_loss(x: PairInputs, hp: dict):
    """Hinge on the DPO log-ratio: max(0, 1 − βΔ)."""
    lc, lr = _log_ratios(x, "hinge", False)
    logits = (lc - lr) * hp["beta"]
    return _finish(torch.relu(1 - logits), lc, lr, x, hp, False)
