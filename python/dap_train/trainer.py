"""The training loop of one stage (port of src/train/stage/index.ts): the tfjs trainer's seeded data order,
micro-batches with gradient accumulation (each split over the processes, CONTRACT.md §1), the loss from
the registry, global-norm clipping, AdamW with warm-up + decay, a NaN/Inf guard that stops before applying a
bad update, held-out evaluation, checkpoints every N steps / at the end / on cancel, exact resume. Every
optimizer step emits its own `step` event (that step's values, never smoothed)."""

import contextlib
import math
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch

from .data import collate, layout_of, loss_inputs, roles
from .logps import sequence_logps
from .losses import RefLogps, get_loss
from .metrics import MetricMeans, token_metrics
from .order import epoch_order
from .parallel import Setup, all_sum, any_true, full_model_state, full_optimizer_state, shard
from .reference import batches_for_rank, ref_tensors
from .schedule import js_round, learning_rate_at
from .spec import RunSpec
from .state import TrainerState, read_trainer_state, write_checkpoint


class NonFiniteError(RuntimeError):
    pass


@dataclass
class Stage:
    name: str
    kind: str
    loss: str
    hyper: dict
    train: list
    eval: list
    epochs: int
    lr: float
    max_steps: Optional[int]
    reference: Optional[dict] = None  # {"kind": "precomputed", "train": table, "eval": table} | {"kind": "live", "model": m}
    resume_from: Optional[str] = None


@dataclass
class Trainer:
    """What every stage of a run shares."""

    setup: Setup
    model: object  # accelerate-prepared (DDP/FSDP wrapper or the model itself)
    base: object  # the unwrapped model (saving, LoRA)
    source: str  # folder whose layout checkpoints and outputs follow
    lora_base: str
    spec: RunSpec  # the run's settings (run_dir, pad_id, batch_size, grad_accum, schedule, …), read where used
    sink: object
    max_positions: Optional[int]
    should_stop: Callable[[], bool] = field(default=lambda: False)

    # -- forward passes -------------------------------------------------------------------------------
    def _forward(self, st: Stage, examples: list, idx: list, table):
        loss_spec = get_loss(st.loss)
        lay = layout_of(examples, idx)
        batch = collate(lay.sequences, self.spec.pad_id, self.max_positions)
        ref = None
        if loss_spec.needs_reference:
            if st.reference is None:
                raise ValueError(f'loss "{st.loss}" needs a reference model')
            if st.reference["kind"] == "live":
                with torch.no_grad():
                    l = sequence_logps(st.reference["model"], batch, self.setup.device)
                ref = RefLogps(l.sum, l.mean)
            else:
                ref = ref_tensors(table, idx, len(lay.sequences), self.setup.device)
        l = sequence_logps(self.model, batch, self.setup.device, token_stats=True)
        sub = [examples[i] for i in idx]
        loss, metrics = loss_spec.fn(loss_inputs(st.kind, l, ref, lay, sub), st.hyper)
        return loss, {**metrics, **token_metrics(l, *roles(st.kind, lay, sub))}, batch.tokens

    @torch.no_grad()
    def evaluate(self, st: Stage) -> dict:
        """Held-out metrics (eval_ prefix), averaged over examples, batches split over the processes."""
        table = st.reference["eval"] if st.reference and st.reference["kind"] == "precomputed" else None
        means = MetricMeans()
        for b in batches_for_rank(len(st.eval), self.spec.batch_size, self.setup):
            lo, hi = b or (0, 1)
            loss, metrics, _ = self._forward(st, st.eval, list(range(lo, hi)), table)
            means.add({"loss": loss, **metrics}, 0 if b is None else hi - lo)  # a padding batch counts 0
        return means.means(self.setup, "eval_")

    # -- optimizer ------------------------------------------------------------------------------------
    def make_optimizer(self):
        """AdamW over the trainable parameters of the unwrapped model (decay on rank ≥ 2 only), and their names."""
        named = [(n, p) for n, p in self.base.named_parameters() if p.requires_grad]
        decay = [p for _, p in named if p.dim() >= 2]
        other = [p for _, p in named if p.dim() < 2]
        groups = [g for g in ({"params": decay, "weight_decay": self.spec.weight_decay}, {"params": other, "weight_decay": 0.0}) if g["params"]]
        opt = torch.optim.AdamW(groups, lr=0.0, betas=(0.9, 0.999), eps=1e-8, foreach=False)
        return opt, named

    # -- the loop -------------------------------------------------------------------------------------
    def total_steps(self, st: Stage) -> int:
        return self.steps_of(len(st.train), st.epochs, st.max_steps)

    def steps_of(self, n: int, epochs: int, max_steps) -> int:
        """Optimizer steps of a stage of `n` training examples (stageSteps of src/train/stage)."""
        total = math.ceil(n / (self.spec.batch_size * self.spec.grad_accum)) * epochs
        return min(total, max_steps) if max_steps else total

    def run_stage(self, st: Stage, opt, named: list) -> dict:
        """Runs one stage to its end or cancel with the prepared optimizer `opt` (made by make_optimizer,
        its state already restored on resume); returns {steps, cancelled, final, checkpoint}."""
        N = len(st.train)
        if N == 0:
            raise ValueError(f"stage {st.name}: no training examples")
        s = self.setup
        total = self.total_steps(st)
        warmup = js_round(self.spec.warmup_ratio * total)
        eval_every = self.spec.eval_every if self.spec.eval_every > 0 else max(1, total // 4)
        state = read_trainer_state(st.resume_from) if st.resume_from else TrainerState(st.name, 0, 0, 0, total, 0, self.spec.seed)
        if state.stage != st.name:
            raise ValueError(f'{st.resume_from}: checkpoint of stage "{state.stage}", expected "{st.name}"')
        if state.step > total:
            raise ValueError(f"{st.resume_from}: the checkpoint is at step {state.step}, beyond this stage's {total} steps "
                             f"(maxSteps {st.max_steps}); resume with a larger --max-steps")
        inner = getattr(opt, "optimizer", opt)
        table = st.reference["train"] if st.reference and st.reference["kind"] == "precomputed" else None
        order = epoch_order(N, self.spec.seed, state.epoch)
        last, last_eval, last_ckpt = {}, {}, st.resume_from
        started, start_step = time.time(), state.step
        params = list(self.model.parameters())  # all of the prepared model's (FSDP clips through its own)

        def checkpoint(reason: str):
            nonlocal last_ckpt
            path = None
            model_state = full_model_state(s, self.model, self.base)  # collective: every rank
            moments = full_optimizer_state(s, self.model, inner, named)
            if s.is_main:
                path = write_checkpoint(self.spec.run_dir, self.base, self.source, self.lora_base, model_state, moments, state, self.spec.weight_decay)
                self.sink.emit("checkpoint", stage=st.name, step=state.step, path=path, reason=reason)
            s.accelerator.wait_for_everyone()
            last_ckpt = path or last_ckpt

        self.model.train()
        try:
            while state.step < total:
                if state.cursor >= N:
                    state.epoch += 1
                    state.cursor = 0
                    order = epoch_order(N, self.spec.seed, state.epoch)
                t0 = time.time()
                chunk = order[state.cursor : state.cursor + self.spec.batch_size * self.spec.grad_accum]
                micro = [chunk[m : m + self.spec.batch_size] for m in range(0, len(chunk), self.spec.batch_size)]
                means, tokens = MetricMeans(), 0
                for mi, idx in enumerate(micro):
                    mine = shard(idx, s.rank, s.world)
                    weight = len(mine) / len(chunk)
                    sync = mi == len(micro) - 1 or s.world == 1
                    with (contextlib.nullcontext() if sync else s.accelerator.no_sync(self.model)):
                        loss, metrics, toks = self._forward(st, st.train, mine or idx[:1], table)
                        s.accelerator.backward(loss * (weight * s.world))
                    if mine:
                        tokens += toks
                    means.add({"loss": loss.detach(), **metrics}, weight)
                sums = means.means(s)
                tokens = int(all_sum(s, [float(tokens)])[0])
                clip = self.spec.max_grad_norm if self.spec.max_grad_norm > 0 else float("inf")
                grad_norm = float(s.accelerator.clip_grad_norm_(params, clip))
                # (fp16: an overflowing gradient is the grad scaler's to skip, not an error)
                if not math.isfinite(sums["loss"]) or (not math.isfinite(grad_norm) and s.precision != "fp16"):
                    opt.zero_grad(set_to_none=True)
                    raise NonFiniteError(f"stage {st.name}, step {state.step + 1}: loss is {sums['loss']}, gradient norm is {grad_norm}: "
                                         "training stopped before applying the update (lower the learning rate or check the data)")
                lr = learning_rate_at(state.step, st.lr, warmup, total, self.spec.schedule)
                for g in inner.param_groups:
                    g["lr"] = lr
                opt.step()
                opt.zero_grad(set_to_none=True)
                state.step += 1
                state.cursor += len(chunk)
                state.numTokens += tokens
                secs = time.time() - t0
                avg = (time.time() - started) / (state.step - start_step)
                last = {**sums, "grad_norm": grad_norm, "learning_rate": lr, "epoch": state.epoch + state.cursor / N,
                        "num_tokens": state.numTokens, "tokens_per_second": tokens / max(secs, 1e-6), "step_seconds": secs,
                        "eta_seconds": avg * (total - state.step)}
                self.sink.emit("step", stage=st.name, step=state.step, totalSteps=total, metrics=last)
                if st.eval and (state.step % eval_every == 0 or state.step == total):
                    self.model.eval()
                    last_eval = self.evaluate(st)
                    self.model.train()
                    self.sink.emit("eval", stage=st.name, step=state.step, metrics=last_eval)
                if any_true(s, self.should_stop()):
                    checkpoint("cancel")
                    return {"steps": state.step, "cancelled": True, "final": {**last, **last_eval}, "checkpoint": last_ckpt}
                if self.spec.checkpoint_every > 0 and state.step % self.spec.checkpoint_every == 0 and state.step < total:
                    checkpoint("periodic")
            checkpoint("final")
            return {"steps": state.step, "cancelled": False, "final": {**last, **last_eval}, "checkpoint": last_ckpt}
        except BaseException as e:
            e.last_checkpoint = last_ckpt
            raise
