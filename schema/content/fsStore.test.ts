import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ContentCorruptError, ContentNotFoundError, ContentStoreError, InvalidContentKeyError } from './errors.ts';
import { openFsContentStore } from './fsStore.ts';
import { contentKey } from './store.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);
// Known answers: SHA-256 of "abc" and of nothing (FIPS 180-2 test vectors).
const ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-content-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Every file under `root`, relative, sorted. */
const filesUnder = (root: string): string[] =>
  existsSync(root) ? (readdirSync(root, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(root.length + 1))
    .sort() : [];

describe('openFsContentStore()', () => {
  it('puts bytes under their SHA-256, fanned out by prefix, and gets, has and verifies them', async () => {
    const store = await openFsContentStore({ root: join(dir, 'content') });
    const put = await store.put(utf8('abc'));
    expect(put).toEqual({ hash: ABC, size: 3, path: join(dir, 'content', 'objects', 'ba', '78', ABC), created: true });
    expect(readFileSync(put.path, 'utf8')).toBe('abc');
    expect(statSync(put.path).mode & 0o777).toBe(0o444);
    expect(await store.get(ABC)).toEqual(new Uint8Array(Buffer.from('abc')));
    expect(await store.has(ABC)).toBe(true);
    expect(await store.has(EMPTY)).toBe(false);
    expect(await store.verify(ABC)).toEqual({ status: 'ok', size: 3 });
    expect(await store.verify(EMPTY)).toEqual({ status: 'missing' });
    expect(filesUnder(store.root)).toEqual([`objects/ba/78/${ABC}`]);
  });

  it('stores empty content too', async () => {
    const store = await openFsContentStore({ root: dir });
    expect((await store.put(new Uint8Array())).hash).toBe(EMPTY);
    expect(await store.get(EMPTY)).toEqual(new Uint8Array());
  });

  it('is idempotent: the same bytes again change nothing and say so', async () => {
    const store = await openFsContentStore({ root: dir });
    const first = await store.put(utf8('abc'));
    const inode = statSync(first.path).ino;
    const again = await store.put(utf8('abc'));
    expect(again).toEqual({ ...first, created: false });
    expect(statSync(first.path).ino).toBe(inode);
    // Concurrent puts of the same new content all succeed and leave one file.
    const many = await Promise.all(Array.from({ length: 8 }, () => store.put(utf8('same bytes'))));
    expect(new Set(many.map((p) => p.hash)).size).toBe(1);
    expect(filesUnder(dir)).toEqual([`objects/ba/78/${ABC}`, `objects/${many[0]!.hash.slice(0, 2)}/${many[0]!.hash.slice(2, 4)}/${many[0]!.hash}`].sort());
  });

  it('round-trips 200 seeded random contents of 0 to 20,000 bytes', async () => {
    const store = await openFsContentStore({ root: dir });
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    const contents = Array.from({ length: 200 }, (_, i) => Uint8Array.from({ length: (i * 9973) % 20_001 }, rand));
    const puts = [];
    for (const c of contents) puts.push(await store.put(c));
    for (const [i, c] of contents.entries()) {
      expect(puts[i]!.size).toBe(c.length);
      expect(await store.get(puts[i]!.hash)).toEqual(c);
      expect(await store.verify(puts[i]!.hash)).toEqual({ status: 'ok', size: c.length });
    }
    expect(filesUnder(join(dir, 'tmp'))).toEqual([]);
  });

  it('refuses what is not a content hash, so no name can reach outside the store', async () => {
    const store = await openFsContentStore({ root: dir });
    for (const bad of ['../../etc/passwd', `0x${ABC}`, ABC.toUpperCase(), ABC.slice(1), `${ABC}/`]) {
      await expect(store.get(bad)).rejects.toThrow(InvalidContentKeyError);
      await expect(store.has(bad)).rejects.toThrow(`not a content hash: ${JSON.stringify(bad)}; expected 64 lowercase hex digits of SHA-256 (no 0x)`);
    }
  });

  it('gets a missing hash as ContentNotFoundError, not retryable', async () => {
    const store = await openFsContentStore({ root: dir });
    const err = await store.get(ABC).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContentNotFoundError);
    expect((err as ContentNotFoundError).message).toBe(`no content with hash ${ABC} in the store`);
    expect((err as ContentNotFoundError).retryable).toBe(false);
  });

  it('detects a corrupted file in verify and get, and a put of the original bytes repairs it', async () => {
    const store = await openFsContentStore({ root: dir });
    const { path } = await store.put(utf8('abc'));
    chmodSync(path, 0o644);
    writeFileSync(path, 'abd');
    const actual = 'a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9'; // SHA-256 of "abd"
    expect(await store.verify(ABC)).toEqual({ status: 'corrupt', actualHash: actual, path });
    const err = await store.get(ABC).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContentCorruptError);
    expect((err as Error).message).toBe(`stored content ${ABC} is corrupt: ${path} now hashes to ${actual}; put the original bytes again to repair it`);
    expect(await store.has(ABC)).toBe(true); // has() only says a file is there; verify() says whether it is right
    expect((await store.put(utf8('abc'))).created).toBe(true);
    expect(await store.verify(ABC)).toEqual({ status: 'ok', size: 3 });
  });

  it('survives a crash between writing and renaming: nothing under the final name, the temp file cleared on reopen', async () => {
    // A real crash: a child process SIGKILLs itself after the temp file is written and synced.
    const script = join(dir, 'crash.mts'); // .mts: an ES module wherever it sits
    writeFileSync(
      script,
      `import { openFsContentStore } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'schema/content/fsStore.ts')).href)};\n` +
        `const store = await openFsContentStore({ root: process.argv[2], beforeRename: () => { process.kill(process.pid, 'SIGKILL'); } });\n` +
        `await store.put(new TextEncoder().encode('abc'));\n`,
    );
    const root = join(dir, 'content');
    const child = spawnSync(process.execPath, ['--import', 'tsx', script, root], { cwd: repoRoot, encoding: 'utf8' });
    expect({ signal: child.signal, stderr: child.stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });
    const temps = filesUnder(join(root, 'tmp'));
    expect(temps).toHaveLength(1);
    expect(readFileSync(join(root, 'tmp', temps[0]!), 'utf8')).toBe('abc'); // fully written, never renamed
    expect(filesUnder(join(root, 'objects'))).toEqual([]);

    // A fresh temp file is left alone on open (it could be another writer's)…
    const store = await openFsContentStore({ root });
    expect(await store.has(ABC)).toBe(false);
    await expect(store.get(ABC)).rejects.toThrow(ContentNotFoundError);
    expect(filesUnder(join(root, 'tmp'))).toEqual(temps);
    // …and removed once it is older than staleTempMs.
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(join(root, 'tmp', temps[0]!), old, old);
    const reopened = await openFsContentStore({ root });
    expect(filesUnder(join(root, 'tmp'))).toEqual([]);
    expect((await reopened.put(utf8('abc'))).created).toBe(true);
    expect(await reopened.verify(ABC)).toEqual({ status: 'ok', size: 3 });
  });

  it('leaves nothing behind when a put fails before its rename', async () => {
    const store = await openFsContentStore({
      root: dir,
      beforeRename: () => {
        throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
      },
    });
    const err = await store.put(utf8('abc')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContentStoreError);
    expect((err as ContentStoreError).retryable).toBe(true);
    expect((err as Error).message).toBe(`could not write ${join(dir, 'objects', 'ba', '78', ABC)}: disk full`);
    expect(filesUnder(dir)).toEqual([]);
    expect(await store.has(ABC)).toBe(false);
  });

  it('removeStaleTemp() removes only temp files older than asked', async () => {
    const store = await openFsContentStore({ root: dir });
    writeFileSync(join(dir, 'tmp', 'a.tmp'), 'x');
    expect(await store.removeStaleTemp(60_000)).toBe(0);
    expect(await store.removeStaleTemp(0)).toBe(1);
    expect(filesUnder(dir)).toEqual([]);
  });
});

describe('putStream() and getStream()', () => {
  /** Seeded bytes, different for each seed. */
  const seededBytes = (length: number, seed: number) => {
    let x = seed;
    return Uint8Array.from({ length }, () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16) & 0xff);
  };
  const collect = async (it: AsyncIterable<Uint8Array>) => {
    const parts: Uint8Array[] = [];
    for await (const p of it) parts.push(p);
    return parts;
  };
  const concat = (parts: readonly Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

  it('stores pieces as put() stores their concatenation: same hash, same file, idempotent either way', async () => {
    const store = await openFsContentStore({ root: dir });
    const whole = seededBytes(300_001, 7);
    const pieces = [whole.subarray(0, 1), whole.subarray(1, 1), whole.subarray(1, 65_537), whole.subarray(65_537)];
    async function* slowly() {
      for (const p of pieces) {
        await new Promise((r) => setTimeout(r, 1));
        yield p;
      }
    }
    const streamed = await store.putStream(slowly());
    expect(streamed).toEqual({ hash: contentKey(whole), size: whole.length, path: store.pathOf(contentKey(whole)), created: true });
    expect(statSync(streamed.path).mode & 0o777).toBe(0o444);
    expect(await store.put(whole)).toEqual({ ...streamed, created: false });
    expect(await store.putStream(pieces)).toEqual({ ...streamed, created: false });
    expect(await store.get(streamed.hash)).toEqual(whole);
    expect((await store.putStream([])).hash).toBe(EMPTY);
    expect(filesUnder(join(dir, 'tmp'))).toEqual([]);
  });

  it('reads content back in pieces of at most chunkBytes that add up to the stored bytes', async () => {
    const store = await openFsContentStore({ root: dir });
    const whole = seededBytes(100_000, 3);
    const { hash } = await store.put(whole);
    const parts = await collect(store.getStream(hash, { chunkBytes: 4096 }));
    expect(parts.map((p) => p.length)).toEqual([...Array.from({ length: 24 }, () => 4096), 100_000 - 24 * 4096]);
    expect(concat(parts)).toEqual(whole);
    expect(concat(await collect(store.getStream(hash)))).toEqual(whole); // default: one piece of up to 1 MiB
    expect(await collect(store.getStream(EMPTY)).catch((e: unknown) => e)).toBeInstanceOf(ContentNotFoundError);
    expect(await collect(store.getStream('../x')).catch((e: unknown) => e)).toBeInstanceOf(InvalidContentKeyError);
  });

  it('getStream() throws ContentCorruptError after the last piece when the file no longer matches its hash', async () => {
    const store = await openFsContentStore({ root: dir });
    const { hash, path } = await store.put(utf8('abc'));
    chmodSync(path, 0o644);
    writeFileSync(path, 'abd');
    const seen: string[] = [];
    const err = await (async () => {
      for await (const p of store.getStream(hash)) seen.push(Buffer.from(p).toString());
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['abd']);
    expect(err).toBeInstanceOf(ContentCorruptError);
  });

  it('passes an error of the pieces through unchanged and stores nothing', async () => {
    const store = await openFsContentStore({ root: dir });
    function* failing() {
      yield utf8('abc');
      throw new RangeError('the producer failed');
    }
    const err = await store.putStream(failing()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toBe('the producer failed');
    expect(filesUnder(dir)).toEqual([]);
  });

  it('leaves nothing behind when it fails before the rename, and says whether a retry can help', async () => {
    const store = await openFsContentStore({
      root: dir,
      beforeRename: () => {
        throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
      },
    });
    const err = await store.putStream([utf8('ab'), utf8('c')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContentStoreError);
    expect((err as ContentStoreError).retryable).toBe(true);
    expect((err as Error).message).toBe(`could not write ${join(dir, 'objects', 'ba', '78', ABC)}: disk full`);
    expect(filesUnder(dir)).toEqual([]);
  });
});

describe('refs', () => {
  it('binds a ref once: the first binding wins and later ones get it back', async () => {
    const store = await openFsContentStore({ root: dir });
    const a = (await store.put(utf8('a'))).hash;
    const b = (await store.put(utf8('b'))).hash;
    expect(await store.getRef('contributions/0xabc')).toBeUndefined();
    expect(await store.bindRef('contributions/0xabc', a)).toBe(a);
    expect(await store.bindRef('contributions/0xabc', b)).toBe(a);
    expect(await store.getRef('contributions/0xabc')).toBe(a);
    expect(readFileSync(join(dir, 'refs', 'contributions', '0xabc'), 'utf8')).toBe(`${a}\n`);
    expect(filesUnder(join(dir, 'tmp'))).toEqual([]);
  });

  it('gives every concurrent binder the same winner', async () => {
    const store = await openFsContentStore({ root: dir });
    const hashes = await Promise.all(Array.from({ length: 10 }, async (_, i) => (await store.put(utf8(`c${i}`))).hash));
    const results = await Promise.all(hashes.map((h) => store.bindRef('race', h)));
    expect(new Set(results).size).toBe(1);
    expect(hashes).toContain(results[0]);
    expect(await store.getRef('race')).toBe(results[0]);
  });

  it('lists the refs under a prefix, sorted, and none under an unknown prefix', async () => {
    const store = await openFsContentStore({ root: dir });
    const a = (await store.put(utf8('a'))).hash;
    for (const ref of ['uploads/0xbb/0x02', 'uploads/0xaa/0x01', 'uploads/0xaa/0x03', 'contributions/0xaa']) await store.bindRef(ref, a);
    expect(await store.listRefs('uploads')).toEqual(['uploads/0xaa/0x01', 'uploads/0xaa/0x03', 'uploads/0xbb/0x02']);
    expect(await store.listRefs('uploads/0xaa')).toEqual(['uploads/0xaa/0x01', 'uploads/0xaa/0x03']);
    expect(await store.listRefs('nothing')).toEqual([]);
    await expect(store.listRefs('../x')).rejects.toThrow(InvalidContentKeyError);
  });

  it('refuses binding to content that is not stored, and ref names that could leave the refs folder', async () => {
    const store = await openFsContentStore({ root: dir });
    await expect(store.bindRef('x', ABC)).rejects.toThrow(ContentNotFoundError);
    const { hash } = await store.put(utf8('abc'));
    for (const bad of ['../x', 'a/../b', 'a.b', '/abs', 'a//b', '', 'a/']) {
      await expect(store.bindRef(bad, hash)).rejects.toThrow(InvalidContentKeyError);
      await expect(store.getRef(bad)).rejects.toThrow(`not a ref name: ${JSON.stringify(bad)}`);
    }
    expect(filesUnder(dir)).toEqual([`objects/ba/78/${ABC}`]);
  });
});
