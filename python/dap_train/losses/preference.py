"""Reference-based pairwise losses (DPO family), port of src/train/losses/preference.ts. r = β·(log πθ −
log πref) over a whole completion; Δ = log-ratio(chosen) − log-ratio(rejected). Metrics as TRL's DPOTrainer
logs them for every loss type: rewards/* = β·(policy − reference) SUMMED log-probs, logps/* = summed policy
log-probs, IPO included (its own length-averaged margin is logged as ipo/length_averaged_margin)."""

import torch

from .common import PairInputs, log_sigmoid, pair_metrics, require_ref


def _log_ratios(x: PairInputs, method: str, averaged: bool):
    rc, rr = require_ref(x.ref_chosen, method), require_ref(x.ref_rejected, method)
    if averaged:
        return x.chosen.mean - rc.mean, x.rejected.mean - rr.mean
    return x.chosen.sum - rc.sum, x.rejected.sum - rr.sum


def _finish(per_row, x: PairInputs, hp: dict, method: str):
    """Mean loss + TRL metrics, plus TRL's rpo_alpha term when rpoAlpha > 0: α · NLL(chosen), the chosen
    completions' negative log-likelihood averaged over the batch's chosen tokens, logged as nll_loss."""
    lc, lr = _log_ratios(x, method, False)  # metrics always from summed log-probs
    loss = per_row.mean()
    metrics = pair_metrics(lc * hp["beta"], lr * hp["beta"], x.chosen.sum, x.rejected.sum)
    alpha = hp.get("rpoAlpha", 0)
    if alpha > 0:
        nll = -x.chosen.sum.sum() / x.chosen.count.sum().clamp(min=1)  # token mean over the batch
        metrics["nll_loss"] = nll.detach()
        loss = loss + alpha * nll
    return loss, metrics


def dpo_loss(x: PairInputs, hp: dict):
    """DPO (Rafailov et al. 2023): −log σ(βΔ)."""
    lc, lr = _log_ratios(x, "dpo", False)
    logits = (lc - lr) * hp["beta"]  # (B,)
    return _finish(-log_sigmoid(logits), x, hp, "dpo")


def cdpo_loss(x: PairInputs, hp: dict):
    """Conservative DPO: −(1−ε) log σ(βΔ) − ε log σ(−βΔ)."""
    eps = hp["labelSmoothing"]
    lc, lr = _log_ratios(x, "cdpo", False)
    logits = (lc - lr) * hp["beta"]
    per_row = -(log_sigmoid(logits) * (1 - eps) + log_sigmoid(-logits) * eps)
    return _finish(per_row, x, hp, "cdpo")


def robust_loss(x: PairInputs, hp: dict):
    """Robust DPO: [−(1−ε) log σ(βΔ) + ε log σ(−βΔ)] / (1 − 2ε), ε < 0.5."""
    eps = hp["labelSmoothing"]
    if not (0 <= eps < 0.5):
        raise ValueError(f"robust: labelSmoothing ε must be in [0, 0.5), got {eps}")
    lc, lr = _log_ratios(x, "robust", False)
    logits = (lc - lr) * hp["beta"]
    num = log_sigmoid(logits) * -(1 - eps) + log_sigmoid(-logits) * eps
    return _finish(num / (1 - 2 * eps), x, hp, "robust")


def ipo_loss(x: PairInputs, hp: dict):
    """IPO: (Δ̄ − 1/(2β))², Δ̄ from length-averaged log-probs."""
    lc, lr = _log_ratios(x, "ipo", True)
    margin = lc - lr  # (B,) Δ̄
    d = margin - 1 / (2 * hp["beta"])
    loss, metrics = _finish(d * d, x, hp, "ipo")
    metrics["ipo/length_averaged_margin"] = margin.detach().mean()
    return loss, metrics


def hinge_loss(x: PairInputs, hp: dict):
    """Hinge on the DPO log-ratio: max(0, 1 − βΔ)."""
    lc, lr = _log_ratios(x, "hinge", False)
    logits = (lc - lr) * hp["beta"]
    return _finish(torch.relu(1 - logits), x, hp, "hinge")
