"""`python -m dap_train env` (CONTRACT.md §6): Python and package versions, what is missing with the pip
command that installs it, and the devices (CUDA / ROCm / MPS, then the CPU) with their memory, as one JSON
object. Works without torch (it then reports torch missing and only the CPU)."""

import importlib
import json
import os
import platform
import sys

REQUIRED = ["torch", "transformers", "accelerate", "safetensors"]
OPTIONAL = ["deepspeed", "peft", "tokenizers"]


def _version(name: str):
    try:
        mod = importlib.import_module(name)
    except Exception:  # noqa: BLE001 — a broken install counts as missing
        return None
    return str(getattr(mod, "__version__", "unknown"))


def _cpu() -> dict:
    mem = None
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        pass
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"type": "cpu", "name": name, "cores": os.cpu_count(), "memoryBytes": mem}


def _devices(torch) -> list:
    out = []
    if torch is not None:
        if torch.cuda.is_available():
            for i in range(torch.cuda.device_count()):
                p = torch.cuda.get_device_properties(i)
                out.append({"type": "cuda", "index": i, "name": p.name, "memoryBytes": int(p.total_memory),
                            "bf16": bool(torch.cuda.is_bf16_supported()), "capability": f"{p.major}.{p.minor}"})
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            out.append({"type": "mps", "index": 0, "name": "Apple MPS", "memoryBytes": None, "bf16": True})
    out.append(_cpu())
    return out


def _has_libuv(torch):
    """Whether torch's TCPStore can use libuv (torchrun's default rendezvous needs it; CONTRACT.md §1)."""
    if not torch.distributed.is_available():
        return False
    from datetime import timedelta

    try:
        store = torch.distributed.TCPStore("127.0.0.1", 0, 1, True, timeout=timedelta(seconds=5), wait_for_workers=False, use_libuv=True)
        del store
        return True
    except Exception as e:  # noqa: BLE001
        return False if "libuv" in str(e) else None


def probe() -> dict:
    packages = {n: _version(n) for n in REQUIRED + OPTIONAL}
    missing = [n for n in REQUIRED if packages[n] is None]
    try:
        import torch
    except Exception:  # noqa: BLE001
        torch = None
    build = None
    if torch is not None:
        build = {"cuda": getattr(torch.version, "cuda", None), "hip": getattr(torch.version, "hip", None),
                 "distributed": torch.distributed.is_available(), "libuv": _has_libuv(torch)}
    return {
        "python": {"version": platform.python_version(), "executable": sys.executable},
        "packages": packages,
        "missing": missing,
        "install": f"{sys.executable} -m pip install {' '.join(missing)}" if missing else None,
        "usable": not missing,
        "devices": _devices(torch),
        "torchBuild": build,
    }


def env_main() -> int:
    print(json.dumps(probe(), indent=None))
    return 0
