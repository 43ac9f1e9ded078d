"""Processes and devices through accelerate: one Accelerator per run (device placement, mixed precision,
DDP / FSDP / DeepSpeed as the launcher's accelerate config says; gloo on CPU), the shard of a micro-batch
each process takes (CONTRACT.md §1: contiguous shards of ⌈B/N⌉, weighted by their share of the step), and
the cross-process sums the trainer needs. With one process every helper is the identity."""

import math
import os
from dataclasses import dataclass

import torch


@dataclass
class Setup:
    accelerator: object
    device: torch.device
    rank: int
    world: int
    precision: str  # fp32 | bf16 | fp16

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _gpu_available() -> bool:
    return torch.cuda.is_available()


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()


def resolve_precision(requested: str, device_type: str) -> str:
    """auto: bf16 on a GPU that has it, fp16 on an older GPU, else fp32; explicit values are checked."""
    if requested in ("no", "fp32"):
        return "fp32"
    if requested == "auto":
        if device_type == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "fp32"
    if requested in ("bf16", "fp16"):
        if device_type == "cpu" and requested == "fp16":
            raise ValueError("config.json: mixedPrecision: fp16 needs a GPU; use bf16 or no on CPU")
        return requested
    raise ValueError(f'config.json: mixedPrecision: expected auto, no, bf16 or fp16, got "{requested}"')


def make_setup(device: str, mixed_precision: str) -> Setup:
    """The Accelerator for a run: device auto|cpu|cuda|mps, mixed precision auto|no|bf16|fp16."""
    from accelerate import Accelerator
    from accelerate.utils import InitProcessGroupKwargs

    if device == "cuda" and not _gpu_available():
        raise ValueError("config.json: device: cuda was asked for, but torch.cuda.is_available() is False (no GPU, or a CPU-only torch build)")
    if device == "mps" and not _mps_available():
        raise ValueError("config.json: device: mps was asked for, but torch.backends.mps.is_available() is False")
    if device not in ("auto", "cpu", "cuda", "mps"):
        raise ValueError(f'config.json: device: expected auto, cpu, cuda or mps, got "{device}"')
    cpu = device == "cpu" or (device == "auto" and not _gpu_available() and not _mps_available())
    device_type = "cpu" if cpu else ("cuda" if _gpu_available() and device in ("auto", "cuda") else "mps")
    precision = resolve_precision(mixed_precision, device_type)
    kwargs = []
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if cpu and distributed:
        kwargs.append(InitProcessGroupKwargs(backend="gloo"))  # torch builds with MPI would pick mpi
    acc = Accelerator(cpu=cpu, mixed_precision={"fp32": "no"}.get(precision, precision), kwargs_handlers=kwargs)
    return Setup(acc, acc.device, acc.process_index, acc.num_processes, precision)


def shard(idx: list, rank: int, world: int) -> list:
    """This process's contiguous shard of a micro-batch's example indices (may be empty)."""
    size = math.ceil(len(idx) / world)
    return idx[rank * size : (rank + 1) * size]


def all_sum(setup: Setup, values: list) -> list:
    """Element-wise sum of a list of floats over processes (float64)."""
    if setup.world == 1:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=setup.device)
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.SUM)
    return t.tolist()


def any_true(setup: Setup, flag: bool) -> bool:
    """True when any process's flag is true (used to agree on cancel at a step boundary)."""
    return all_sum(setup, [1.0 if flag else 0.0])[0] > 0


def describe_devices(setup: Setup) -> list:
    d = setup.device
    if d.type == "cuda":
        return [torch.cuda.get_device_name(d)]
    if d.type == "mps":
        return ["Apple MPS"]
    import platform

    return [platform.processor() or platform.machine() or "cpu"]


def _dcp_options():
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    return StateDictOptions(full_state_dict=True, cpu_offload=True)


def full_model_state(setup: Setup, model, base) -> dict:
    """The whole model's state dict by parameter name (collective with several processes: call on every
    rank; rank 0 gets the full dict, gathered from DDP / FSDP shards by torch.distributed.checkpoint)."""
    if setup.world == 1:
        return base.state_dict()
    from torch.distributed.checkpoint.state_dict import get_model_state_dict

    return get_model_state_dict(model, options=_dcp_options())


def full_optimizer_state(setup: Setup, model, optimizer, named: list) -> dict:
    """{name: {"step", "exp_avg", "exp_avg_sq"}} of the trainable parameters (collective like full_model_state)."""
    if setup.world == 1:
        return {n: optimizer.state[p] for n, p in named if optimizer.state.get(p)}
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

    return dict(get_optimizer_state_dict(model, optimizer, options=_dcp_options()).get("state", {}))  # {} off rank 0


def load_optimizer_state(setup: Setup, model, optimizer, named: list, state: dict) -> None:
    """Sets the moments saved by full_optimizer_state (every rank passes the whole dict)."""
    if setup.world == 1:
        for n, p in named:
            st = state[n]
            optimizer.state[p] = {k: v.to(p.device, p.dtype) if k != "step" else v for k, v in st.items()}
        return
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict, set_optimizer_state_dict

    groups = get_optimizer_state_dict(model, optimizer, options=StateDictOptions(full_state_dict=True))["param_groups"]
    set_optimizer_state_dict(model, optimizer, {"state": state, "param_groups": groups}, options=StateDictOptions(full_state_dict=True))
