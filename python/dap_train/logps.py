"""Per-sequence completion log-probs of a batch under a causal LM (the quantity every DAP loss is built
on), as the engine's sequenceLogps: logits at position t score token t+1; prompt and padding masked."""

import torch
import torch.nn.functional as F

from .data import Batch
from .losses import SeqLogps


def sequence_logps(model, batch: Batch, device, token_stats: bool = False) -> SeqLogps:
    """Summed / mean log-prob and token count of each row's completion (differentiable). With token_stats,
    also the per-row sums (no gradient) over the same positions of the entropy −Σ p log p, the mean logit
    over the vocabulary and argmax hits — TRL's entropy / logits/* / mean_token_accuracy (metrics.py)."""
    ids = batch.ids.to(device)
    attn = batch.attention_mask.to(device)
    comp = batch.completion_mask.to(device)
    logits = model(input_ids=ids, attention_mask=attn, use_cache=False).logits  # (N, T, V)
    N, T, V = logits.shape
    targets = ids[:, 1:]  # (N, T-1): token t+1
    weights = comp[:, 1:]  # (N, T-1)
    token_logps = -F.cross_entropy(logits[:, :-1].float().reshape(-1, V), targets.reshape(-1), reduction="none").view(N, T - 1)
    s = (token_logps * weights).sum(dim=1)  # (N,)
    count = weights.sum(dim=1)
    out = SeqLogps(s, s / torch.clamp(count, min=1), count)
    if token_stats:
        with torch.no_grad():
            lg = logits[:, :-1].float()  # (N, T-1, V)
            lse = torch.logsumexp(lg, dim=-1)  # (N, T-1)
            entropy = lse - (torch.softmax(lg, dim=-1) * lg).sum(dim=-1)
            hit = (lg.argmax(dim=-1) == targets).float()
            w = weights.detach()
            out.stats = {"entropy": (entropy * w).sum(1), "meanLogit": (lg.mean(dim=-1) * w).sum(1), "correct": (hit * w).sum(1)}
    return out
