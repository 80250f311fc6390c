// A lock file that keeps a second process off a data directory. PGlite itself does not refuse a second
// process on the same directory (checked with 0.5: both open it, and their writes would corrupt it).
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { StoreLockedError } from './errors.ts';

export interface DirLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): void;
}

interface Holder {
  pid: number;
  host: string;
  since: string;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const readHolder = (path: string): Holder | undefined => {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? { pid: h.pid, host: h.host, since: String(h.since) } : undefined;
  } catch {
    return undefined; // missing, or not ours: the lock is created whole (link), never half-written
  }
};

/**
 * Takes `path` (created exclusively) for this process, or throws a StoreLockedError naming the holder.
 * A lock left by a process that no longer runs on this host is taken over.
 */
export function lockDataDir(path: string, what: string): DirLock {
  const me: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  // Written to a private file first, then linked into place: link() fails if the lock exists, and a lock
  // that exists always has its whole content.
  const tmp = `${path}.${me.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(me));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = readHolder(path);
      const mine = holder?.pid === me.pid && holder.host === me.host;
      const stale = holder === undefined || (holder.host === me.host && !mine && !alive(holder.pid));
      if (stale && attempt === 0) {
        // Left open: two processes taking over the same stale lock in the same instant could both win.
        unlinkSync(path);
        continue;
      }
      const who =
        holder === undefined
          ? 'another process'
          : mine
            ? 'this process already'
            : `process ${holder.pid} on ${holder.host} (since ${holder.since})`;
      throw new StoreLockedError(`${what} is in use: ${who} has it open (lock file ${path})`, {
        details:
          'one process per data directory: stop the other process, or talk to the running `tributary up` over HTTP; ' +
          'retrying helps once it has stopped',
        retryable: true,
      });
    }
  } finally {
    unlinkSync(tmp);
  }
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      const holder = readHolder(path);
      if (holder?.pid === me.pid && holder.host === me.host) unlinkSync(path);
    },
  };
}
