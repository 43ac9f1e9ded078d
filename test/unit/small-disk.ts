/**
 * A small real file system for disk-full tests: a tmpfs of a few hundred KB mounted on a temp folder (needs
 * root and the mount capability, as in CI), a filler file that takes all the space left, and helpers to free
 * it again or grow the file system. Where mounting is impossible the tests skip with the reason.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  /** The mount point (an empty folder on the tmpfs). */
  dir: string;
  /** Fills the file system to the last byte with a filler file. */
  fill(): void;
  /** Removes the filler file. */
  free(): void;
  /** Grows (or shrinks) the file system to `kb` KiB. */
  resize(kb: number): void;
  unmount(): void;
}

/** Mounts a `kb`-KiB tmpfs; returns it, or the reason it cannot be mounted here (for `t.skip`). */
export function mountSmallDisk(kb: number): SmallDisk | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dap-small-disk-'));
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mount.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `cannot mount a small tmpfs here (needs root and CAP_SYS_ADMIN): ${(mount.stderr || mount.error?.message || '').trim().split('\n')[0]}` };
  }
  const filler = join(dir, '.filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      try {
        const block = Buffer.alloc(4096, 1);
        for (;;) {
          try {
            if (writeSync(fd, block) < block.length) continue; // partial: the next write fails
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw e;
          }
        }
        // The last page may still take a few bytes: fill them too.
        for (;;) {
          try {
            writeSync(fd, Buffer.alloc(1, 1));
          } catch {
            break;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      try {
        unlinkSync(filler);
      } catch {
        // already free
      }
    },
    resize(size: number) {
      const r = spawnSync('mount', ['-o', `remount,size=${size}k`, dir], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`remount ${dir}: ${r.stderr}`);
    },
    unmount() {
      spawnSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
