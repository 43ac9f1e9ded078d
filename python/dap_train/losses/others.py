"""RRHF, SFT and KTO (port of src/train/losses/rrhf.ts, sft.ts, kto.ts)."""

import torch

from .common import RankingInputs, SftInputs, UnpairedInputs, pair_metrics


def rrhf_loss(x: RankingInputs, hp: dict):
    """RRHF: Σ_{i ranked below j} max(0, p_i − p_j) per group, averaged over groups, + sftWeight·NLL(best):
    the mean token NLL −p_best (rrhfSftReduction "mean", default) or the summed NLL ("sum", the paper's).
    rewards/* = p of the better / worse member of each ranked pair, logps/* their summed log-probs."""
    red = hp.get("rrhfSftReduction", "mean")
    if red not in ("mean", "sum"):
        raise ValueError(f'rrhf: rrhfSftReduction must be "mean" or "sum", got {red!r}')
    p = x.logps.mean  # (N,)
    p_better, p_worse = p[x.better], p[x.worse]  # (P,)
    rank = torch.relu(p_worse - p_better).sum() / x.groups
    sft = -(p if red == "mean" else x.logps.sum)[x.best].mean()
    loss = rank + sft * hp["sftWeight"]
    b, w = p_better.detach(), p_worse.detach()
    metrics = pair_metrics(b, w, x.logps.sum[x.better], x.logps.sum[x.worse])
    metrics["rank_loss"] = rank.detach()
    metrics["sft_loss"] = sft.detach()
    return loss, metrics


def sft_loss(x: SftInputs, hp: dict):
    """Token-averaged NLL of the targets over the whole batch."""
    tokens = torch.clamp(x.logps.count.sum(), min=1)
    loss = -x.logps.sum.sum() / tokens
    return loss, {"logps/chosen": x.logps.sum.detach().mean()}


def _masked_mean(v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (v * mask).sum() / torch.clamp(mask.sum(), min=1)


def kto_loss(x: UnpairedInputs, hp: dict):
    """KTO (TRL): desirable w_D·(1 − σ(β(r − z))), undesirable w_U·(1 − σ(β(z − r))), z = detached KL ≥ 0."""
    r = x.logps.sum - x.ref.sum  # (B,)
    kl_raw = (x.kl_policy - x.kl_ref).mean() if x.kl_policy is not None and x.kl_ref is not None else r.mean()
    z = torch.clamp(kl_raw, min=0).detach()
    des = x.labels
    und = 1 - des
    des_loss = (1 - torch.sigmoid((r - z) * hp["beta"])) * hp["desirableWeight"]
    und_loss = (1 - torch.sigmoid((z - r) * hp["beta"])) * hp["undesirableWeight"]
    loss = (des_loss * des + und_loss * und).mean()
    rewards = (r * hp["beta"]).detach()
    right = (r > z).float() * des + (r < z).float() * und
    logps = x.logps.sum.detach()
    metrics = {
        "rewards/chosen": _masked_mean(rewards, des),
        "rewards/rejected": _masked_mean(rewards, und),
        "rewards/margins": _masked_mean(rewards, des) - _masked_mean(rewards, und),
        "rewards/accuracies": right.detach().mean(),
        "logps/chosen": _masked_mean(logps, des),
        "logps/rejected": _masked_mean(logps, und),
        "kl": z,
    }
    return loss, metrics
