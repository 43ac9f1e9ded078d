"""Reference log-probs (port of src/train/stage/reference.ts). Precomputed (default): every sequence of every
example scored once with the policy as it is at the start of the stage (policy = reference), batchSize
examples per pass in file order, split over the processes and summed back, kept as plain lists per example
and saved to RUN_DIR/reference-logps.STAGE.json in the tfjs format (a resume reloads the same numbers).
Live: a frozen copy scores every batch (see trainer.py)."""

import json
import os

import torch

from .data import collate, layout_of
from .logps import sequence_logps
from .parallel import Setup, all_sum


def batches_for_rank(n: int, batch_size: int, setup: Setup) -> list:
    """The [start, end) batches of n examples this process scores; every process gets the same count
    (padded with None) so collective forwards (DDP buffers, FSDP) stay in step."""
    all_batches = [(s, min(n, s + batch_size)) for s in range(0, n, batch_size)]
    mine = all_batches[setup.rank :: setup.world]
    per_rank = -(-len(all_batches) // setup.world)
    return mine + [None] * (per_rank - len(mine))


@torch.no_grad()
def compute_ref_table(model, examples: list, batch_size: int, pad_id: int, max_positions, setup: Setup) -> dict:
    """{"sums": [[…]], "means": [[…]]}: one list per example, one value per sequence."""
    sizes = [len(e.sequences) for e in examples]
    starts = [0]
    for s in sizes:
        starts.append(starts[-1] + s)
    flat_sum = [0.0] * starts[-1]
    flat_mean = [0.0] * starts[-1]
    for b in batches_for_rank(len(examples), batch_size, setup):
        dummy = b is None
        lo, hi = (0, 1) if dummy else b
        idx = list(range(lo, hi))
        lay = layout_of(examples, idx)
        l = sequence_logps(model, collate(lay.sequences, pad_id, max_positions), setup.device)
        if dummy:
            continue
        s, m = l.sum.double().cpu().tolist(), l.mean.double().cpu().tolist()
        for k, v in enumerate(s):
            flat_sum[starts[lo] + k] = v
            flat_mean[starts[lo] + k] = m[k]
    if setup.world > 1:
        both = all_sum(setup, flat_sum + flat_mean)
        flat_sum, flat_mean = both[: len(flat_sum)], both[len(flat_sum) :]
    # float32 values, as the tfjs table holds (its tensors are float32)
    f32 = lambda v: float(torch.tensor(v, dtype=torch.float32))  # noqa: E731
    return {
        "sums": [[f32(flat_sum[i]) for i in range(starts[e], starts[e + 1])] for e in range(len(examples))],
        "means": [[f32(flat_mean[i]) for i in range(starts[e], starts[e + 1])] for e in range(len(examples))],
    }


def ref_path(run_dir: str, stage: str) -> str:
    return os.path.join(run_dir, f"reference-logps.{stage}.json")


def save_ref_tables(path: str, tables: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(tables, f)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_ref_tables(path: str, n_train: int, n_eval: int) -> dict:
    with open(path, encoding="utf-8") as f:
        t = json.load(f)
    if len(t["train"]["sums"]) != n_train or len(t["eval"]["sums"]) != n_eval:
        raise ValueError(f"{path}: reference log-probs cover {len(t['train']['sums'])}/{len(t['eval']['sums'])} examples, "
                         f"the data has {n_train}/{n_eval}: resume with the same data and config")
    return t


def ref_tensors(table: dict, idx: list, n_sequences: int, device):
    """The reference (sum, mean) tensors (N,) of examples idx, stacked like their layout."""
    from .losses import RefLogps

    sums = [v for i in idx for v in table["sums"][i]]
    means = [v for i in idx for v in table["means"][i]]
    if len(sums) != n_sequences:
        raise ValueError("reference table does not match the batch layout")
    return RefLogps(torch.tensor(sums, dtype=torch.float32, device=device), torch.tensor(means, dtype=torch.float32, device=device))
