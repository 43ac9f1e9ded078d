"""TRL's token-level metrics of a micro-batch (port of src/train/stage/tokenMetrics.ts) and the weighted
means the trainer reports (MetricMeans of src/train/stage/index.ts):
  entropy              Σ over the completion tokens of every chosen and rejected row of −Σ_v p log p, / their count
  logits/chosen        Σ over the chosen rows' completion tokens of the mean logit over the vocabulary, / their count
  logits/rejected      the same over the rejected rows
  mean_token_accuracy  share of the chosen rows' completion tokens whose argmax logit is the token itself
Which rows are "chosen" / "rejected" is the data kind's (data.roles). A role with no rows in the micro-batch
gives no value; a step's (or the held-out set's) value of a metric is the example-weighted mean over the
micro-batches that have it, summed over the processes."""

import torch

from .losses import SeqLogps
from .parallel import Setup, all_sum

TOKEN_METRICS = ("entropy", "logits/chosen", "logits/rejected", "mean_token_accuracy")


def _per_token(x: torch.Tensor, count: torch.Tensor, idx: list) -> torch.Tensor:
    i = torch.tensor(idx, dtype=torch.long, device=x.device)
    return x[i].sum() / torch.clamp(count[i].sum(), min=1)


def token_metrics(l: SeqLogps, chosen: list, rejected: list) -> dict:
    s = l.stats
    out = {}
    if chosen or rejected:
        out["entropy"] = _per_token(s["entropy"], l.count, chosen + rejected)
    if chosen:
        out["logits/chosen"] = _per_token(s["meanLogit"], l.count, chosen)
        out["mean_token_accuracy"] = _per_token(s["correct"], l.count, chosen)
    if rejected:
        out["logits/rejected"] = _per_token(s["meanLogit"], l.count, rejected)
    return out


class MetricMeans:
    """Weighted means of metrics over micro-batches (and processes), each over the micro-batches that have it."""

    def __init__(self):
        self.sums, self.weights = {}, {}

    def add(self, values: dict, weight: float) -> None:
        for k, v in values.items():
            self.sums[k] = self.sums.get(k, 0.0) + float(v) * weight
            self.weights[k] = self.weights.get(k, 0.0) + weight

    def means(self, setup: Setup, prefix: str = "") -> dict:
        """The means over every process (collective: the same key list on every rank)."""
        keys = sorted(set(self.sums) | set(TOKEN_METRICS))
        v = all_sum(setup, [self.sums.get(k, 0.0) for k in keys] + [self.weights.get(k, 0.0) for k in keys])
        n = len(keys)
        return {prefix + k: v[i] / v[n + i] for i, k in enumerate(keys) if v[n + i] > 0}
