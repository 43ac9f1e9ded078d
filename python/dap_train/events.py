"""The run's event stream (src/train/runs/events.ts, schema src/train/runs/events.schema.json): rank 0 appends each
event as one JSON line to RUN_DIR/metrics.jsonl (one write of a whole line, flushed) and prints the same
line on stdout for the host to relay. Other ranks emit nothing. Non-finite numbers become null (JSON has
no NaN; JavaScript's JSON.stringify writes null too)."""

import json
import math
import os
import sys
from datetime import datetime, timezone


def iso_now() -> str:
    """The time as JavaScript's Date.toISOString writes it: 2026-12-01T09:30:00.123Z."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _finite(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


class EventSink:
    """Writes events of one run (only when `enabled`, i.e. on rank 0)."""

    def __init__(self, run_dir: str, enabled: bool, stdout=None):
        self.path = os.path.join(run_dir, "metrics.jsonl")
        self.enabled = enabled
        self.stdout = stdout or sys.stdout
        self.ended = False  # a finished or failed event was written

    def emit(self, type_: str, **fields) -> dict:
        event = {"ts": iso_now(), "type": type_, **fields}
        if type_ in ("finished", "failed"):
            self.ended = True
        if not self.enabled:
            return event
        line = json.dumps(_finite(event), allow_nan=False, ensure_ascii=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
        self.stdout.write(line)
        self.stdout.flush()
        return event

    def log(self, message: str, level: str = "info") -> None:
        self.emit("log", level=level, message=message)
