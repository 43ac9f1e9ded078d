"""DAP Studio's torch executor: trains a run folder prepared by the TypeScript host (see ../CONTRACT.md)
on PyTorch + transformers + accelerate, writing the same run folder, events and outputs as the tfjs
executor. Entry point: ``python -m dap_train train RUN_DIR``; also ``env`` and ``estimate``."""

__version__ = "0.1.0"
