"""Writing folders atomically (CONTRACT.md §3): everything goes into a temporary sibling folder, every file
and folder is fsync'd, then the folder is renamed into place (a previous folder of that name is moved
aside first and removed after), so a reader never sees a half-written checkpoint or model."""

import os
import shutil
import tempfile
from contextlib import contextmanager


def fsync_tree(root: str) -> None:
    """fsync every file and folder under root (folders last, so their entries are durable)."""
    for dirpath, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(dirpath)


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_folder(dest: str):
    """Yields a temporary folder; on success it becomes `dest` (replacing an older one), on error it is removed."""
    dest = os.path.abspath(dest)
    parent = os.path.dirname(dest)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(dest)}.tmp-", dir=parent)
    try:
        yield tmp
        fsync_tree(tmp)
        old = None
        if os.path.exists(dest):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(dest)}.old-", dir=parent)
            os.rename(dest, os.path.join(old, "x"))
        os.rename(tmp, dest)
        fsync_dir(parent)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_json(path: str, obj) -> None:
    """Writes a JSON file (inside an atomic folder, or via a temp file + rename when on its own)."""
    import json

    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
