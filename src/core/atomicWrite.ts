/**
 * Whole-file and whole-folder writes that never leave a half-written file in place of a good one: the
 * content goes to a temporary sibling (`.NAME.tmp-PID-RANDOM`, same folder, so the same file system), is
 * fsync'd, and is renamed over NAME; then the folder is fsync'd so the rename itself survives a power
 * loss. A crash at any moment leaves either the old NAME or the new one, whole, plus at worst a stale
 * temporary that readers never look at (the next write of NAME removes those of dead processes).
 * Folders (model/, adapter/, checkpoints) are filled under a temporary name and renamed the same way; an
 * existing folder is first moved aside to `.NAME.old-…` and removed after the new one is in place (a crash
 * between those two renames is undone by the next write: see restoreMovedAside).
 * Also: fsyncDirectory (after creating a file), and the message of a failed write (a full disk says so).
 */
import {
  closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeSync, chmodSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';

/** fsyncs a folder so that entries created or renamed in it survive power loss (best effort: Windows cannot). */
export function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return; // some platforms (Windows) cannot open folders; the files themselves are still fsync'd
  }
  try {
    fsyncSync(fd);
  } catch {
    // EINVAL/EISDIR on file systems that do not support fsync of folders
  } finally {
    closeSync(fd);
  }
}

/** An error of a write, as the user should read it: the path, and "the disk is full" for ENOSPC/EDQUOT. */
export function writeError(path: string, err: unknown, what = 'not written'): Error {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT') {
    const out = new Error(`${path}: ${what}: the disk is full (${e.code}); free some space and try again`);
    (out as NodeJS.ErrnoException).code = e.code;
    return out;
  }
  if (e instanceof Error && e.message.startsWith(path)) return e;
  const out = new Error(`${path}: ${what}: ${e instanceof Error ? e.message : String(e)}`);
  if (e?.code) (out as NodeJS.ErrnoException).code = e.code;
  return out;
}

/** Writes all of `bytes` to `fd` (a write may be short). */
export function writeAllSync(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

function tempName(target: string, kind: 'tmp' | 'old'): string {
  return join(dirname(target), `.${basename(target)}.${kind}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Names beside `target` of its temporaries of `kind` (`.NAME.tmp-…` / `.NAME.old-…`). */
function temporariesOf(target: string, kind: 'tmp' | 'old'): string[] {
  const prefix = `.${basename(target)}.${kind}-`;
  try {
    return readdirSync(dirname(target)).filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}

/**
 * Removes `.NAME.tmp-PID-…` leftovers of `target` whose process is gone (a write killed midway), and, once
 * `target` exists, `.NAME.old-PID-…` ones too (a replacement killed while it removed the folder it replaced).
 */
function removeStaleTemps(target: string): void {
  const kinds: ('tmp' | 'old')[] = existsSync(target) ? ['tmp', 'old'] : ['tmp'];
  for (const kind of kinds) {
    for (const name of temporariesOf(target, kind)) {
      const pid = Number(name.slice(`.${basename(target)}.${kind}-`.length).split('-')[0]);
      if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) rmSync(join(dirname(target), name), { recursive: true, force: true });
    }
  }
}

/**
 * When `target` is missing but a `.NAME.old-…` of it exists, a folder replacement was interrupted between
 * its two renames: the old folder (complete) is moved back. Called before every folder write.
 */
function restoreMovedAside(target: string): void {
  if (existsSync(target)) return;
  const old = temporariesOf(target, 'old')[0];
  if (old) renameSync(join(dirname(target), old), target);
}

/** The path a write to `path` replaces: a symlink's target (the link itself stays). */
function realTarget(path: string): string {
  const abs = resolve(path);
  try {
    return lstatSync(abs).isSymbolicLink() ? realpathSync(abs) : abs;
  } catch {
    return abs;
  }
}

/**
 * A file written in pieces that appears whole or not at all: `write` goes to a temporary sibling, `commit`
 * fsyncs it, gives it the permission bits of the file it replaces, renames it over `path` and fsyncs the
 * folder; `abort` (or any failed write or commit) removes the temporary and leaves `path` untouched. Errors
 * name `path` (and say when the disk is full).
 */
export class AtomicFileWriter {
  private readonly target: string;
  private readonly tmp: string;
  private fd: number | undefined;

  constructor(private readonly path: string) {
    this.target = realTarget(path);
    this.tmp = tempName(this.target, 'tmp');
    this.fd = this.guard(() => {
      mkdirSync(dirname(this.target), { recursive: true });
      removeStaleTemps(this.target);
      return openSync(this.tmp, 'wx');
    });
  }

  /** Appends `data` (UTF-8 for a string) to the temporary. */
  write(data: string | Uint8Array): void {
    this.guard(() => writeAllSync(this.open(), typeof data === 'string' ? Buffer.from(data, 'utf8') : data));
  }

  /** Puts the written content in place of `path`. */
  commit(): void {
    this.guard(() => {
      const fd = this.open();
      if (existsSync(this.target)) chmodSync(this.tmp, statSync(this.target).mode & 0o7777);
      fsyncSync(fd);
      closeSync(fd);
      this.fd = undefined;
      renameSync(this.tmp, this.target);
    });
    fsyncDirectory(dirname(this.target));
  }

  /** Drops what was written; `path` stays as it was. */
  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.tmp, { force: true });
  }

  private open(): number {
    if (this.fd === undefined) throw new Error('the write was already committed or aborted');
    return this.fd;
  }

  private guard<T>(step: () => T): T {
    try {
      return step();
    } catch (e) {
      this.abort();
      throw writeError(this.path, e);
    }
  }
}

/**
 * Writes `data` (a string, bytes, or byte chunks written in order) to `path` atomically (AtomicFileWriter:
 * temporary sibling, fsync, rename, fsync of the folder; an existing file keeps its permission bits).
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  const writer = new AtomicFileWriter(path);
  for (const part of typeof data === 'string' || data instanceof Uint8Array ? [data] : data) writer.write(part);
  writer.commit();
}

/** fsyncs every file and folder under `dir`, then `dir` itself (children first). */
function fsyncTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) fsyncTree(p);
    else if (entry.isFile()) {
      const fd = openSync(p, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
  fsyncDirectory(dir);
}

/**
 * Creates the folder `dir` atomically: `fill` writes the content into a temporary sibling folder (given as
 * its argument), everything is fsync'd, and the folder is renamed to `dir`, replacing an existing one.
 * Readers see the old folder or the new one, never a part. On failure (also a full disk) the temporary is
 * removed, `dir` is untouched, and the error names `dir`.
 */
export async function writeFolderAtomic(dir: string, fill: (tmp: string) => Promise<void> | void): Promise<void> {
  const target = resolve(dir);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  restoreMovedAside(target);
  removeStaleTemps(target);
  const tmp = tempName(target, 'tmp');
  try {
    mkdirSync(tmp);
    await fill(tmp);
    fsyncTree(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw writeError(dir, e);
  }
  if (existsSync(target)) {
    const old = tempName(target, 'old');
    renameSync(target, old);
    renameSync(tmp, target);
    fsyncDirectory(parent);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, target);
    fsyncDirectory(parent);
  }
}
