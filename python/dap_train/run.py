"""A whole training run of a prepared folder (CONTRACT.md): the stages of data/meta.json in order (a
built-in model's SFT warm-up, then the method; SPIN's iterations), LoRA on the method's stage, reference
log-probs, resume from a checkpoint, cancel at a step boundary (SIGTERM/SIGINT, or the host's RUN_DIR/cancel
file, which every process agrees on), the final outputs
(model/ in the source layout and dtypes; LoRA: adapter/ then the merged model/), and every event. A
failure ends metrics.jsonl with a `failed` event carrying the traceback's last lines (exit status 1)."""

import os
import signal
import time
import traceback

import torch

from .data import read_examples
from .events import EventSink
from .folders import atomic_folder
from .lora import enable_lora, load_adapter, lora_modules, lora_parameter_count, merged_state, save_adapter
from .losses import get_loss
from .model_io import load_model, save_model_folder
from .order import derive_seed
from .parallel import describe_devices, full_model_state, load_optimizer_state, make_setup
from .reference import compute_ref_table, load_ref_tables, ref_path, save_ref_tables
from .spec import read_run_spec
from .spin import run_spin
from .state import read_optimizer, read_trainer_state
from .trainer import NonFiniteError, Stage, Trainer

LORA_SEED_TAG = 0x10A
MESSAGE_ERRORS = (ValueError, NonFiniteError, OSError)
STOP = {"requested": False}  # set by SIGTERM / SIGINT; polled after every optimizer step (with RUN_DIR/cancel)


class Run:
    def __init__(self, run_dir: str, resume: str = None, max_steps: int = None):
        self.spec = read_run_spec(run_dir, max_steps)
        threads = self.spec.config.get("threads") or 0
        if isinstance(threads, int) and threads > 0:  # config `threads` (0 = torch's default: every core)
            torch.set_num_threads(threads)
        self.setup = make_setup(self.spec.device, self.spec.mixed_precision)
        self.sink = EventSink(self.spec.run_dir, self.setup.is_main)
        self.resume = os.path.abspath(resume) if resume else None
        self._tokenizer = None
        self.plan = []
        self.base = None
        self.trainer = None
        self.started = time.time()

    # -- helpers shared with spin.py ------------------------------------------------------------------
    def tokenizer(self):
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self.spec.model)
        return self._tokenizer

    def has_lora(self) -> bool:
        return bool(lora_modules(self.base))

    @property
    def sft_model_dir(self) -> str:
        return os.path.join(self.spec.run_dir, "sft-model")

    @property
    def lora_base(self) -> str:
        return self.sft_model_dir if self._has_warmup() else self.spec.model

    def _has_warmup(self) -> bool:
        return len(self.spec.stages) > 1 and self.spec.stages[0].stage == "sft"

    def save_policy(self, dest: str, final: bool, adapter: bool = None) -> None:
        """The policy as a model folder (source layout; F32 unless final; LoRA merged) or, under LoRA (unless
        adapter=False), its adapter. Collective: every rank calls it, rank 0 writes."""
        state = full_model_state(self.setup, self.trainer.model or self.base, self.base)
        if self.setup.is_main:
            with atomic_folder(dest) as tmp:
                if self.has_lora() and adapter is not False:
                    save_adapter(self.base, tmp, self.lora_base, state=state)
                else:
                    merged = merged_state(self.base, state) if self.has_lora() else state
                    save_model_folder(self.base, self.spec.model, tmp, dtype=None if final else "F32", state=merged)
        self.setup.accelerator.wait_for_everyone()

    def _trainable_line(self) -> str:
        adapters = lora_parameter_count(self.base)
        params = sum(p.numel() for n, p in self.base.named_parameters() if "dap_lora_" not in n)
        total = params + adapters
        trainable = adapters if adapters else params
        return f"trainable params: {trainable:,} || all params: {total:,} || trainable%: {100 * trainable / total:.4f}"

    def _cancel_requested(self) -> bool:
        """SIGTERM / SIGINT, or (rank 0) the host's RUN_DIR/cancel file, which is consumed here."""
        if STOP["requested"]:
            return True
        path = os.path.join(self.spec.run_dir, "cancel")
        if self.setup.is_main and os.path.exists(path):
            os.unlink(path)
            return True
        return False

    # -- loading --------------------------------------------------------------------------------------
    def _load_policy(self):
        """The policy: the checkpoint's model (or base + its adapter) when resuming, else the model folder."""
        if not self.resume:
            return load_model(self.spec.model)
        adapter = os.path.join(self.resume, "adapter")
        if os.path.exists(os.path.join(adapter, "adapter_config.json")):
            model = load_model(self.lora_base)
            load_adapter(model, adapter)
            return model
        return load_model(os.path.join(self.resume, "model"))

    def _reference(self, name: str, loss: str, train: list, evals: list, live_dir: str):
        if not get_loss(loss).needs_reference:
            return None
        s = self.setup
        if self.spec.reference == "live":
            ref = load_model(live_dir)
            if os.path.exists(os.path.join(live_dir, "adapter_config.json")):
                ref = load_model(self.lora_base)
                load_adapter(ref, live_dir)
            ref.to(s.device).eval().requires_grad_(False)
            return {"kind": "live", "model": ref}
        path = ref_path(self.spec.run_dir, name)
        if self.resume and os.path.exists(path):
            return {"kind": "precomputed", **load_ref_tables(path, len(train), len(evals))}
        self.trainer.model.eval()
        tables = {k: compute_ref_table(self.trainer.model, rows, self.spec.batch_size, self.spec.pad_id, self.max_positions, s)
                  for k, rows in (("train", train), ("eval", evals))}
        self.trainer.model.train()
        if s.is_main:
            save_ref_tables(path, tables)
            self.sink.log(f"reference log-probs precomputed for {len(train)} + {len(evals)} examples ({name})")
        return {"kind": "precomputed", **tables}

    # -- stages ---------------------------------------------------------------------------------------
    def train_stage(self, name, kind, loss, train, evals, epochs, lr, max_steps, resume_from, live_dir):
        s = self.setup
        s.accelerator.free_memory()
        if self.spec.gradient_checkpointing:
            self.base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        opt, named = self.trainer.make_optimizer()
        self.trainer.model, opt = s.accelerator.prepare(self.base, opt)  # together: FSDP remaps the optimizer's parameters
        if s.accelerator.distributed_type.name == "DEEPSPEED":
            raise ValueError("DeepSpeed is not supported by dap_train yet (it steps the optimizer inside backward): "
                             "use DDP (the default) or FSDP (accelerate config) instead")
        if resume_from:
            load_optimizer_state(s, self.trainer.model, getattr(opt, "optimizer", opt), named,
                                 read_optimizer(os.path.join(resume_from, "optimizer.safetensors"), named))
        if live_dir and self.spec.reference == "live" and not resume_from and get_loss(loss).needs_reference:
            self.save_policy(live_dir, final=False)
        ref = self._reference(name, loss, train, evals, live_dir or (self.sft_model_dir if self._has_warmup() else self.spec.model))
        st = Stage(name, kind, loss, self.spec.hyper, train, evals, epochs, lr, max_steps, ref, resume_from)
        start_step = read_trainer_state(resume_from).step if resume_from else 0
        self.sink.emit("started", runId=self.spec.config.get("runId"), runDir=self.spec.run_dir, backend=s.device.type,
                       config=self.spec.config, totalSteps=self.trainer.total_steps(st), stage=name, startStep=start_step,
                       executor="torch", devices=describe_devices(s), processes=s.world, precision=s.precision, stages=self.plan)
        lora = self.base.dap_lora if self.has_lora() else None
        suffix = f" (LoRA r={lora['r']} on {len(lora['modules'])} module{'' if len(lora['modules']) == 1 else 's'})" if lora else ""
        self.sink.log(f"{name}: {self._trainable_line()}{suffix}")
        try:
            return self.trainer.run_stage(st, opt, named)
        finally:
            if ref and ref["kind"] == "live":
                del ref["model"]

    def execute(self) -> int:
        spec, s = self.spec, self.setup
        resume_stage = read_trainer_state(self.resume).stage if self.resume else None
        self.base = self._load_policy().to(s.device)
        self.max_positions = getattr(self.base.config, "max_position_embeddings", None) or getattr(self.base.config, "n_positions", None)
        self.trainer = Trainer(s, None, self.base, spec.model, "", spec, self.sink, self.max_positions, should_stop=self._cancel_requested)
        names = [st.stage if st.stage != "spin" else None for st in spec.stages]
        # The run's stages in order with their step counts (SPIN iterations: sized once generated), in every started event as on tfjs.
        self.plan = []
        for st in spec.stages:
            if st.stage == "spin":
                self.plan += [{"stage": f"spin-{t}"} for t in range(1, int(spec.spin.get("iterations", 2)) + 1)]
            else:
                self.plan.append({"stage": st.stage, **({"totalSteps": self.trainer.steps_of(st.train_count, st.epochs, st.max_steps)} if st.train_count is not None else {})})
        skip_to = 0
        if resume_stage:
            skip_to = next((i for i, st in enumerate(spec.stages) if st.stage == resume_stage or (st.stage == "spin" and resume_stage.startswith("spin-"))), None)
            if skip_to is None:
                raise ValueError(f'{self.resume}: checkpoint of stage "{resume_stage}", which this run does not have ({", ".join(n for n in names if n)})')
        result = None
        for i, st in enumerate(spec.stages):
            if i < skip_to:
                continue
            resuming = self.resume if i == skip_to and resume_stage else None
            last = i == len(spec.stages) - 1
            if last and spec.lora and not self.has_lora():
                enable_lora(self.base, spec.lora["r"], float(spec.lora["alpha"]), spec.lora["targetModules"], derive_seed(spec.seed, LORA_SEED_TAG))
            self.trainer.lora_base = self.lora_base
            train = read_examples(st.train, st.kind)
            evals = read_examples(st.eval, st.kind)
            if st.stage == "spin":
                result = run_spin(self, st, train, evals, (self.resume, resume_stage) if resuming else None)
            else:
                result = self.train_stage(st.stage, st.kind, st.loss, train, evals, st.epochs, st.lr, st.max_steps, resuming, None)
            if result["cancelled"]:
                return self._finish(result, cancelled=True)
            if not last and st.stage == "sft":
                self.save_policy(self.sft_model_dir, final=False)
        outputs = {}
        if self.has_lora():
            outputs["adapter"] = os.path.join(spec.run_dir, "adapter")
            self.save_policy(outputs["adapter"], final=True)
        outputs["model"] = os.path.join(spec.run_dir, "model")
        self.save_policy(outputs["model"], final=True, adapter=False)
        return self._finish(result, cancelled=False, **outputs)

    def _finish(self, result, cancelled: bool, **outputs) -> int:
        summary = {"runDir": self.spec.run_dir, "steps": result["steps"], "cancelled": cancelled, "final": result["final"],
                   "seconds": time.time() - self.started, **outputs}
        if result.get("checkpoint"):
            summary["checkpoint"] = result["checkpoint"]
        self.sink.emit("finished", summary=summary)
        return 0


def failed_fields(e: BaseException, max_lines: int = 20) -> dict:
    """The `failed` event of an exception: a clear message and the traceback's last lines."""
    message = str(e) if isinstance(e, MESSAGE_ERRORS) and str(e) else f"{type(e).__name__}: {e}".rstrip(": ")
    lines = "".join(traceback.format_exception(e)).rstrip("\n").split("\n")
    out = {"error": message, "stack": "\n".join(lines[-max_lines:])}
    last = getattr(e, "last_checkpoint", None)
    if last:
        out["lastCheckpoint"] = last
    return out


def train_main(run_dir: str, resume: str = None, max_steps: int = None) -> int:
    """`python -m dap_train train RUN_DIR [--resume CKPT] [--max-steps N]`; returns the exit status."""
    run = None

    def on_signal(signum, frame):
        STOP["requested"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        run = Run(run_dir, resume, max_steps)
        return run.execute()
    except BaseException as e:  # noqa: BLE001 — every failure becomes a failed event
        sink = run.sink if run is not None else EventSink(os.path.abspath(run_dir), int(os.environ.get("RANK", "0")) == 0)
        if os.path.isdir(os.path.abspath(run_dir)):
            sink.emit("failed", **failed_fields(e))
        else:
            import sys
            print(f"dap_train: {failed_fields(e)['error']}", file=sys.stderr)
        return 1
