"""The loss registry of the torch executor: method name → (fn, needs_reference, data_kind), the same
methods and formulas as src/train/losses/ (each a small pure function of tensors). Hyper-parameters
arrive resolved in config.json's `loss` (the TS registry's defaults applied). SPIN is a driver, not a loss."""

from dataclasses import dataclass
from typing import Callable

from .common import PairInputs, RankingInputs, RefLogps, SeqLogps, SftInputs, UnpairedInputs
from .others import kto_loss, rrhf_loss, sft_loss
from .preference import cdpo_loss, dpo_loss, hinge_loss, ipo_loss, robust_loss
from .reference_free import orpo_loss, simpo_loss, slic_loss


@dataclass(frozen=True)
class LossSpec:
    name: str
    fn: Callable
    needs_reference: bool
    data_kind: str  # pairs | rankings | sft | unpaired


def _spec(name, fn, needs_reference, data_kind):
    return name, LossSpec(name, fn, needs_reference, data_kind)


LOSSES: dict[str, LossSpec] = dict([
    _spec("dpo", dpo_loss, True, "pairs"),
    _spec("cdpo", cdpo_loss, True, "pairs"),
    _spec("robust", robust_loss, True, "pairs"),
    _spec("ipo", ipo_loss, True, "pairs"),
    _spec("hinge", hinge_loss, True, "pairs"),
    _spec("slic", slic_loss, False, "pairs"),
    _spec("rrhf", rrhf_loss, False, "rankings"),
    _spec("sft", sft_loss, False, "sft"),
    _spec("orpo", orpo_loss, False, "pairs"),
    _spec("simpo", simpo_loss, False, "pairs"),
    _spec("kto", kto_loss, True, "unpaired"),
])


def get_loss(name: str) -> LossSpec:
    """The registry entry of a loss, or an error listing the known names."""
    if name not in LOSSES:
        raise ValueError(f'unknown loss "{name}": expected one of {", ".join(LOSSES)}')
    return LOSSES[name]


__all__ = ["LOSSES", "LossSpec", "get_loss", "PairInputs", "RankingInputs", "RefLogps", "SeqLogps", "SftInputs", "UnpairedInputs"]
