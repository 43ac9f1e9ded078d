"""Pairwise losses without a reference model (port of src/train/losses/referenceFree.ts): SLiC-HF, SimPO,
ORPO. Their rewards/* are the policy-only rewards TRL's CPO/ORPO trainers log (per method); logps/* are always
the summed policy log-probs, as for every method."""

import torch

from .common import PairInputs, log_sigmoid, pair_metrics


def slic_loss(x: PairInputs, hp: dict):
    """SLiC-HF: max(0, δ − log πθ(y_w) + log πθ(y_l)) − λ·log πθ(y_w), summed log-probs."""
    hinge = torch.relu(x.rejected.sum - x.chosen.sum + hp["delta"])  # (B,)
    per_row = hinge - x.chosen.sum * hp["lambda"]
    c, r = x.chosen.sum.detach(), x.rejected.sum.detach()
    return per_row.mean(), pair_metrics(c, r, c, r)


def simpo_loss(x: PairInputs, hp: dict):
    """SimPO: −log σ(β·(p̄_w − p̄_l) − γ), length-averaged log-probs; rewards β·p̄."""
    logits = (x.chosen.mean - x.rejected.mean) * hp["beta"] - hp["gamma"]
    c, r = x.chosen.mean.detach(), x.rejected.mean.detach()
    return (-log_sigmoid(logits)).mean(), pair_metrics(c * hp["beta"], r * hp["beta"], x.chosen.sum, x.rejected.sum)


def _log1m_exp(x: torch.Tensor) -> torch.Tensor:
    """log(1 − eˣ) for x < 0 as log(−expm1(x)), x clipped to ≤ −1e-6."""
    return torch.log(-torch.expm1(torch.clamp(x, max=-1e-6)))


def orpo_loss(x: PairInputs, hp: dict):
    """ORPO (TRL): NLL(chosen) − λ·mean(log σ(log odds ratio)), λ = beta; mean log-probs."""
    pw, pl = x.chosen.mean, x.rejected.mean
    log_odds = (pw - pl) - (_log1m_exp(pw) - _log1m_exp(pl))  # (B,)
    ratio = log_sigmoid(log_odds)
    nll = -x.chosen.sum.sum() / torch.clamp(x.chosen.count.sum(), min=1)
    loss = nll - ratio.mean() * hp["beta"]
    c, r = pw.detach(), pl.detach()
    metrics = pair_metrics(c * hp["beta"], r * hp["beta"], x.chosen.sum, x.rejected.sum)
    metrics["nll_loss"] = nll.detach()
    metrics["log_odds_ratio"] = ratio.detach().mean()
    metrics["log_odds_chosen"] = log_odds.detach().mean()
    return loss, metrics
