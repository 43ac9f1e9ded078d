"""Tokenized examples of a prepared run (CONTRACT.md §2: one JSON line per example with its `sequences`),
the micro-batch layout (every sequence of the micro-batch stacked, `offsets[i]` = example i's first
sequence; a pair's chosen and rejected share the pass) and the per-kind adapters that turn the stacked
per-sequence log-probs back into loss inputs — the port of src/train/stage/batching.ts."""

import json
from dataclasses import dataclass, field
from typing import Optional

import torch

from .losses import PairInputs, RankingInputs, RefLogps, SeqLogps, SftInputs, UnpairedInputs

KINDS = ("pairs", "rankings", "sft", "unpaired")


@dataclass
class Example:
    """One training example: its token sequences (prompt ids, completion ids) and kind-specific fields."""

    sequences: list  # [(prompt_ids, completion_ids), ...]
    ranks: Optional[list] = None  # rankings: 0 = best
    label: Optional[bool] = None  # unpaired: desirable?
    row: Optional[dict] = None  # SPIN: the untokenized SFT row


def _ids(v, where: str) -> list:
    if not isinstance(v, list) or not all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in v):
        raise ValueError(f"{where}: expected a list of token ids (non-negative integers)")
    return v


def parse_example(obj, kind: str, where: str) -> Example:
    """An example from one decoded JSON line; errors name file:line and the field."""
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected a JSON object")
    seqs = obj.get("sequences")
    if not isinstance(seqs, list) or not seqs:
        raise ValueError(f"{where}: sequences: expected a non-empty list")
    sequences = []
    for k, s in enumerate(seqs):
        if not isinstance(s, dict):
            raise ValueError(f"{where}: sequences[{k}]: expected an object with prompt and completion")
        p = _ids(s.get("prompt"), f"{where}: sequences[{k}].prompt")
        c = _ids(s.get("completion"), f"{where}: sequences[{k}].completion")
        if not p or not c:
            raise ValueError(f"{where}: sequences[{k}]: prompt and completion need at least one token each")
        sequences.append((p, c))
    want = {"pairs": 2, "sft": 1}.get(kind)
    if want is not None and len(sequences) != want:
        raise ValueError(f"{where}: sequences: a {kind} example has {want} sequence(s), got {len(sequences)}")
    ex = Example(sequences, row=obj.get("row"))
    if kind == "rankings":
        ranks = obj.get("ranks")
        if not isinstance(ranks, list) or len(ranks) != len(sequences) or not all(isinstance(r, int) for r in ranks):
            raise ValueError(f"{where}: ranks: expected one integer rank per sequence")
        ex.ranks = ranks
    if kind == "unpaired":
        if not isinstance(obj.get("label"), bool):
            raise ValueError(f"{where}: label: expected true or false")
        if len(sequences) not in (1, 2):
            raise ValueError(f"{where}: sequences: an unpaired example has 1 or 2 (with the mismatched KL pair) sequences")
        ex.label = obj["label"]
    return ex


def read_examples(path: str, kind: str) -> list:
    """Every example of a tokenized JSONL file (blank lines skipped)."""
    if kind not in KINDS:
        raise ValueError(f'{path}: kind "{kind}": expected one of {", ".join(KINDS)}')
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not JSON: {e.msg}") from None
            out.append(parse_example(obj, kind, f"{path}:{n}"))
    return out


@dataclass
class Layout:
    """A micro-batch's sequences and where each example's sequences start (offsets[n] = total)."""

    sequences: list = field(default_factory=list)
    offsets: list = field(default_factory=list)


def layout_of(examples: list, idx: list) -> Layout:
    lay = Layout()
    for i in idx:
        lay.offsets.append(len(lay.sequences))
        lay.sequences.extend(examples[i].sequences)
    lay.offsets.append(len(lay.sequences))
    return lay


@dataclass
class Batch:
    ids: torch.Tensor  # (N, T) int64, right-padded
    attention_mask: torch.Tensor  # (N, T) int64
    completion_mask: torch.Tensor  # (N, T) float: 1 on completion tokens
    tokens: int  # prompt + completion tokens (num_tokens)


def collate(sequences: list, pad_id: int, max_positions: Optional[int] = None) -> Batch:
    """Right-pads (prompt, completion) sequences into one batch."""
    T = max(len(p) + len(c) for p, c in sequences)
    if max_positions is not None and T > max_positions:
        raise ValueError(f"batch length {T} exceeds the model's context of {max_positions} tokens: lower maxLength")
    N = len(sequences)
    ids = torch.full((N, T), pad_id, dtype=torch.long)
    attn = torch.zeros((N, T), dtype=torch.long)
    comp = torch.zeros((N, T), dtype=torch.float32)
    for b, (p, c) in enumerate(sequences):
        seq = p + c
        ids[b, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        attn[b, : len(seq)] = 1
        comp[b, len(p) : len(seq)] = 1
    return Batch(ids, attn, comp, sum(len(p) + len(c) for p, c in sequences))


def _pick(l: SeqLogps, idx: list) -> SeqLogps:
    i = torch.tensor(idx, dtype=torch.long, device=l.sum.device)
    return SeqLogps(l.sum[i], l.mean[i], l.count[i])


def _pick_ref(r: Optional[RefLogps], idx: list) -> Optional[RefLogps]:
    if r is None:
        return None
    i = torch.tensor(idx, dtype=torch.long, device=r.sum.device)
    return RefLogps(r.sum[i], r.mean[i])


def _nth(lay: Layout, k: int) -> list:
    return [o + k for o in lay.offsets[:-1]]


def loss_inputs(kind: str, l: SeqLogps, ref: Optional[RefLogps], lay: Layout, examples: list):
    """The loss inputs of micro-batch `examples` (in layout order) from stacked log-probs (N,)."""
    if kind == "pairs":
        c, r = _nth(lay, 0), _nth(lay, 1)
        return PairInputs(_pick(l, c), _pick(l, r), _pick_ref(ref, c), _pick_ref(ref, r))
    if kind == "sft":
        return SftInputs(l)
    if kind == "rankings":
        better, worse, best = [], [], []
        for g, ex in enumerate(examples):
            o = lay.offsets[g]
            top = min(ex.ranks)
            best.append(o + ex.ranks.index(top))
            for i, ri in enumerate(ex.ranks):
                for j, rj in enumerate(ex.ranks):
                    if ri < rj:
                        better.append(o + i)
                        worse.append(o + j)
        t = lambda a: torch.tensor(a, dtype=torch.long, device=l.sum.device)  # noqa: E731
        return RankingInputs(l, t(better), t(worse), t(best), len(examples))
    if kind == "unpaired":
        if ref is None:
            raise ValueError("kto needs reference log-probs")
        own = _nth(lay, 0)
        labels = torch.tensor([1.0 if e.label else 0.0 for e in examples], device=l.sum.device)
        base = UnpairedInputs(_pick(l, own), _pick_ref(ref, own), labels)
        if lay.offsets[1] - lay.offsets[0] == 2:
            kl = _nth(lay, 1)
            base.kl_policy = _pick(l, kl).sum
            base.kl_ref = _pick_ref(ref, kl).sum
        return base
    raise ValueError(f'unknown data kind "{kind}"')


def roles(kind: str, lay: Layout, examples: list):
    """(chosen, rejected) sequence indices of a micro-batch for the token metrics (batching.ts `roles`)."""
    if kind == "pairs":
        return _nth(lay, 0), _nth(lay, 1)
    if kind == "sft":
        return _nth(lay, 0), []
    if kind == "rankings":
        chosen, rejected = [], []
        for g, ex in enumerate(examples):
            best = ex.ranks.index(min(ex.ranks))
            for i in range(len(ex.ranks)):
                (chosen if i == best else rejected).append(lay.offsets[g] + i)
        return chosen, rejected
    if kind == "unpaired":  # desirable rows are "chosen", undesirable ones "rejected"; KL sequences neither
        own = _nth(lay, 0)
        return [o for o, e in zip(own, examples) if e.label], [o for o, e in zip(own, examples) if not e.label]
    raise ValueError(f'unknown data kind "{kind}"')
