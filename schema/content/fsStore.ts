// The content store on a local filesystem (the data dir's `content/`):
//   objects/<h0h1>/<h2h3>/<hash>   the bytes, read-only, fanned out by hash prefix (at most 65,536 folders)
//   refs/<name>                    a ref: the hash it is bound to, then "\n"
//   tmp/                           files being written; never read as content
// A put writes a temp file, fsyncs it, renames it to its final name and fsyncs the folder, so a crash at
// any point leaves either the whole file under its final name or nothing there (a stray temp file at
// most, removed when a store is next opened). putStream does the same with content that comes in pieces,
// hashing each piece on its way to the temp file; getStream reads a file back in pieces and checks its
// hash after the last one. Refs are created with link(2), which fails if the name
// exists: the first binding wins atomically, even between processes.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ContentCorruptError, ContentNotFoundError, ContentStoreError } from './errors.ts';
import { checkContentKey, checkRefName, contentKey, type ContentChunks, type ContentStore, type GetStreamOptions, type PutResult, type VerifyResult } from './store.ts';

export interface FsContentStoreOptions {
  /** The store's folder, created if missing: the data dir's `content/`. */
  root: string;
  /** Temp files older than this are removed when the store opens: a crash mid-put left them. Default one hour. */
  staleTempMs?: number;
  /** Fault injection for tests: runs after a temp file is written and synced, before it gets its final name. */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

export interface FsContentStore extends ContentStore {
  readonly root: string;
  /** Where the bytes of `hash` live (whether or not they are stored). */
  pathOf(hash: string): string;
  /** Removes temp files older than `olderThanMs` (0: all of them); returns how many. */
  removeStaleTemp(olderThanMs: number): Promise<number>;
}

const DEFAULT_STALE_TEMP_MS = 60 * 60 * 1000;
const DEFAULT_CHUNK_BYTES = 2 ** 20;

/** Opens (creating if needed) a content store under `root`, clearing temp files left by a crash. */
export async function openFsContentStore(options: FsContentStoreOptions): Promise<FsContentStore> {
  const root = resolve(options.root);
  const tmpDir = join(root, 'tmp');
  await io(`create ${root}`, () => mkdir(tmpDir, { recursive: true }));

  const pathOf = (hash: string) => join(root, 'objects', hash.slice(0, 2), hash.slice(2, 4), checkContentKey(hash));

  /** Writes `bytes` to a synced temp file and hands it to `commit`; the temp file never outlives the call. */
  async function withTempFile<T>(bytes: Uint8Array, commit: (temp: string) => Promise<T>): Promise<T> {
    const temp = join(tmpDir, `${randomUUID()}.tmp`);
    try {
      const fh = await open(temp, 'wx', 0o444);
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await options.beforeRename?.(temp);
      return await commit(temp);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async function readVerified(hash: string): Promise<Uint8Array> {
    const path = pathOf(hash);
    const bytes = await io(`read ${path}`, () => readFile(path), hash);
    const actual = contentKey(bytes);
    if (actual !== hash) throw new ContentCorruptError(hash, actual, path);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength); // a plain Uint8Array, not a Buffer
  }

  async function verify(hash: string): Promise<VerifyResult> {
    const path = pathOf(hash);
    const h = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of createReadStream(path)) {
        h.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
    } catch (e) {
      if (code(e) === 'ENOENT') return { status: 'missing' };
      throw ioError(`read ${path}`, e);
    }
    const actualHash = h.digest('hex');
    return actualHash === hash ? { status: 'ok', size } : { status: 'corrupt', actualHash, path };
  }

  async function has(hash: string): Promise<boolean> {
    const path = pathOf(hash);
    try {
      return (await stat(path)).isFile();
    } catch (e) {
      if (code(e) === 'ENOENT') return false;
      throw ioError(`stat ${path}`, e);
    }
  }

  async function put(bytes: Uint8Array): Promise<PutResult> {
    const hash = contentKey(bytes);
    const path = pathOf(hash);
    const size = bytes.length;
    // Idempotent: identical content is already there. A corrupt copy is replaced by the good bytes.
    if ((await verify(hash)).status === 'ok') return { hash, size, path, created: false };
    await io(`write ${path}`, () =>
      withTempFile(bytes, async (temp) => {
        const created = await mkdir(dirname(path), { recursive: true });
        await rename(temp, path);
        await syncDirs(dirname(path), created);
      }),
    );
    return { hash, size, path, created: true };
  }

  async function putStream(chunks: ContentChunks): Promise<PutResult> {
    const temp = join(tmpDir, `${randomUUID()}.tmp`);
    try {
      const fh = await io(`create ${temp}`, () => open(temp, 'wx', 0o444));
      const h = createHash('sha256');
      let size = 0;
      try {
        // Errors of `chunks` itself pass through as they are; only the file operations are store errors.
        for await (const chunk of chunks) {
          h.update(chunk);
          for (let done = 0; done < chunk.byteLength; ) {
            const { bytesWritten } = await io(`write ${temp}`, () => fh.write(chunk, done, chunk.byteLength - done, size + done));
            done += bytesWritten;
          }
          size += chunk.byteLength;
        }
        await io(`write ${temp}`, () => fh.sync());
      } finally {
        await fh.close();
      }
      const hash = h.digest('hex');
      const path = pathOf(hash);
      if ((await verify(hash)).status === 'ok') return { hash, size, path, created: false };
      await io(`write ${path}`, async () => {
        await options.beforeRename?.(temp);
        const created = await mkdir(dirname(path), { recursive: true });
        await rename(temp, path);
        await syncDirs(dirname(path), created);
      });
      return { hash, size, path, created: true };
    } finally {
      await rm(temp, { force: true });
    }
  }

  async function* getStream(hash: string, opts: GetStreamOptions = {}): AsyncGenerator<Uint8Array> {
    const path = pathOf(checkContentKey(hash));
    const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new ContentStoreError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
    const fh = await io(`read ${path}`, () => open(path, 'r'), hash);
    const h = createHash('sha256');
    try {
      for (;;) {
        const buf = new Uint8Array(chunkBytes); // a fresh buffer per piece: the caller may keep every piece
        const { bytesRead } = await io(`read ${path}`, () => fh.read(buf, 0, chunkBytes, null));
        if (bytesRead === 0) break;
        const piece = bytesRead === chunkBytes ? buf : buf.slice(0, bytesRead);
        h.update(piece);
        yield piece;
      }
    } finally {
      await fh.close();
    }
    const actual = h.digest('hex');
    if (actual !== hash) throw new ContentCorruptError(hash, actual, path);
  }

  async function bindRef(ref: string, hash: string): Promise<string> {
    const path = join(root, 'refs', checkRefName(ref));
    checkContentKey(hash);
    if (!(await has(hash))) throw new ContentNotFoundError(hash);
    const bound = await io(`write ${path}`, () =>
      withTempFile(new TextEncoder().encode(`${hash}\n`), async (temp) => {
        const created = await mkdir(dirname(path), { recursive: true });
        try {
          await link(temp, path);
        } catch (e) {
          if (code(e) === 'EEXIST') return false;
          throw e;
        }
        await syncDirs(dirname(path), created);
        return true;
      }),
    );
    if (bound) return hash;
    const existing = await getRef(ref);
    if (existing === undefined) throw new ContentStoreError(`ref ${ref} vanished while being bound`, { retryable: true });
    return existing;
  }

  async function getRef(ref: string): Promise<string | undefined> {
    const path = join(root, 'refs', checkRefName(ref));
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if (code(e) === 'ENOENT') return undefined;
      throw ioError(`read ${path}`, e);
    }
    const hash = text.trimEnd();
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new ContentStoreError(`ref ${ref} is corrupt: ${path} does not hold a content hash`);
    return hash;
  }

  async function listRefs(prefix: string): Promise<string[]> {
    const base = join(root, 'refs', checkRefName(prefix));
    let entries: string[];
    try {
      entries = (await readdir(base, { recursive: true, withFileTypes: true }))
        .filter((d) => d.isFile())
        .map((d) => relative(join(root, 'refs'), join(d.parentPath, d.name)).split(sep).join('/'));
    } catch (e) {
      if (code(e) === 'ENOENT') return [];
      throw ioError(`list ${base}`, e);
    }
    return entries.sort();
  }

  async function removeStaleTemp(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const name of await io(`list ${tmpDir}`, () => readdir(tmpDir))) {
      const p = join(tmpDir, name);
      try {
        // 0 means every temp file (file times can read a fraction of a millisecond ahead of Date.now()).
        if (olderThanMs <= 0 || (await stat(p)).mtimeMs <= cutoff) {
          await rm(p, { force: true });
          removed++;
        }
      } catch (e) {
        if (code(e) !== 'ENOENT') throw ioError(`remove ${p}`, e);
      }
    }
    return removed;
  }

  await removeStaleTemp(options.staleTempMs ?? DEFAULT_STALE_TEMP_MS);

  return {
    root,
    pathOf,
    put,
    putStream,
    get: async (hash) => readVerified(checkContentKey(hash)),
    getStream,
    has: async (hash) => has(checkContentKey(hash)),
    verify: async (hash) => verify(checkContentKey(hash)),
    bindRef,
    getRef,
    listRefs,
    removeStaleTemp,
  };
}

/** fsyncs `dir`, and the folders above it up to the parent of `created` (the first folder mkdir made). */
async function syncDirs(dir: string, created: string | undefined): Promise<void> {
  const dirs = [dir];
  if (created) for (let d = dir; d !== dirname(created); d = dirname(d)) dirs.push(dirname(d));
  for (const d of new Set(dirs)) {
    const fh = await open(d, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function ioError(what: string, e: unknown): ContentStoreError {
  if (e instanceof ContentStoreError) return e;
  // Disk full, too many open files, I/O errors: conditions that can pass. A bad path or permission cannot.
  const c = code(e);
  const retryable = c !== undefined && ['ENOSPC', 'EMFILE', 'ENFILE', 'EIO', 'EAGAIN', 'EBUSY'].includes(c);
  return new ContentStoreError(`could not ${what}: ${(e as Error).message}`, { retryable, cause: e });
}

async function io<T>(what: string, f: () => Promise<T>, notFoundHash?: string): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (notFoundHash !== undefined && code(e) === 'ENOENT') throw new ContentNotFoundError(notFoundHash);
    throw ioError(what, e);
  }
}
