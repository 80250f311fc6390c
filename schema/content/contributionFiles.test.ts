import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256, type Hex } from 'viem';
import { rowHash } from '../rows/canonical.ts';
import { contentHash } from '../rows/contentHash.ts';
import { RowFormatError } from '../rows/errors.ts';
import { DEFAULT_ROW_LIMITS } from '../rows/parse.ts';
import { contributionRef, loadContribution, storeContribution } from './contributionFiles.ts';
import { ContentCorruptError, ContentStoreError } from './errors.ts';
import { openFsContentStore, type FsContentStore } from './fsStore.ts';
import { contentKey } from './store.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

let dir: string;
let store: FsContentStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-contribution-'));
  store = await openFsContentStore({ root: join(dir, 'content') });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const objectCount = () => (readdirSync(join(store.root, 'objects'), { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[]).filter((d) => d.isFile()).length;
const upload = (content: string, filename: string) => storeContribution({ store, bytes: utf8(content), filename, limits: DEFAULT_ROW_LIMITS });

describe('storeContribution()', () => {
  it('stores the original bytes, the canonical rows and a manifest, and binds the content hash to the manifest', async () => {
    const original = '\ufeffcafe\u0301 au lait\r\n\r\nsecond line  \r\n';
    const s = await upload(original, 'uploads/menu.txt');
    const rows = [{ text: 'café au lait' }, { text: 'second line' }];
    const rowHashes = rows.map(rowHash);
    const canonical = '{"text":"café au lait"}\n{"text":"second line"}\n';
    expect(s.rows).toEqual(rows);
    expect(s.rowHashes).toEqual(rowHashes);
    expect(s.contentHash).toBe(contentHash(rowHashes));
    expect(s.created).toBe(true);
    expect(s.manifest).toEqual({
      format: 'tributary-contribution-v1',
      contentHash: s.contentHash,
      shape: 'text',
      rowCount: 2,
      original: { filename: 'menu.txt', format: 'text', sha256: contentKey(utf8(original)), size: utf8(original).length },
      rows: { sha256: contentKey(utf8(canonical)), size: utf8(canonical).length },
    });
    // The stored objects, byte for byte.
    expect(await store.get(s.manifest.original.sha256)).toEqual(utf8(original)); // BOM and all
    expect(text(await store.get(s.manifest.rows.sha256))).toBe(canonical);
    const manifestText = text(await store.get(s.manifestHash));
    expect(manifestText).toBe(
      `{"contentHash":"${s.contentHash}","format":"tributary-contribution-v1","original":{"filename":"menu.txt","format":"text","sha256":"${s.manifest.original.sha256}","size":${s.manifest.original.size}},"rowCount":2,"rows":{"sha256":"${s.manifest.rows.sha256}","size":${s.manifest.rows.size}},"shape":"text"}`,
    );
    expect(await store.getRef(contributionRef(s.contentHash))).toBe(s.manifestHash);
    expect(contributionRef(s.contentHash)).toBe(`contributions/${s.contentHash}`);
    // Each line of the rows file hashes to its row hash.
    canonical
      .trimEnd()
      .split('\n')
      .forEach((line, i) => expect(keccak256(utf8(line))).toBe(rowHashes[i]));
    expect(objectCount()).toBe(3);
  });

  it('loads a stored contribution back, checked, and nothing for an unknown content hash', async () => {
    const s = await upload('prompt,completion\n"2+2=",4\n"a, b",c\n', 'math.csv');
    const { created: _, ...stored } = s;
    expect(await loadContribution(store, s.contentHash)).toEqual(stored);
    expect(stored.manifest.shape).toBe('prompt-completion');
    expect(await loadContribution(store, keccak256('0x01'))).toBeUndefined();
  });

  it('gives the same rows in another order or format the earlier manifest, storing nothing new', async () => {
    const first = await upload('alpha\nbeta\ngamma\n', 'a.txt');
    const count = objectCount();
    const again = await upload('{"text":"gamma"}\n{"text":"alpha"}\n{"text":"beta"}\n', 'b.jsonl');
    expect(again.created).toBe(false);
    expect(again.contentHash).toBe(first.contentHash);
    expect(again.manifestHash).toBe(first.manifestHash);
    expect(again.manifest.original.filename).toBe('a.txt');
    expect(again.rows).toEqual(first.rows);
    expect(objectCount()).toBe(count);
  });

  it('refuses a bad file with its RowFormatError and stores nothing', async () => {
    const err = await upload('{"text":"ok"}\n{"text":"bad","extra":1}\n', 'x.jsonl').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RowFormatError);
    expect((err as RowFormatError).line).toBe(2);
    expect(readdirSync(store.root).sort()).toEqual(['tmp']);
  });

  it('recovers from a crash before the ref was bound: the orphans are reused and the upload completes', async () => {
    // What a crash between the puts and the binding leaves: objects, no ref.
    const s = await upload('one\ntwo\n', 'c.txt');
    rmSync(join(store.root, 'refs'), { recursive: true });
    expect(await loadContribution(store, s.contentHash)).toBeUndefined();
    const again = await upload('one\ntwo\n', 'c.txt');
    expect(again.created).toBe(true);
    expect(again.manifestHash).toBe(s.manifestHash); // same bytes, same manifest
    expect(objectCount()).toBe(3);
  });

  it('refuses to load a contribution whose stored files are corrupt or do not match its content hash', async () => {
    const s = await upload('one\ntwo\n', 'c.txt');
    // A ref that points at another contribution's manifest.
    const other = contentHash([rowHash({ text: 'three' })]);
    await store.bindRef(contributionRef(other), s.manifestHash);
    await expect(loadContribution(store, other)).rejects.toThrow(
      `stored contribution ${other} is inconsistent: the manifest says ${s.contentHash} and its rows hash to ${s.contentHash}`,
    );
    // A corrupted rows file.
    const path = store.pathOf(s.manifest.rows.sha256);
    chmodSync(path, 0o644);
    writeFileSync(path, '{"text":"one"}\n');
    await expect(loadContribution(store, s.contentHash)).rejects.toThrow(ContentCorruptError);
  });

  it('refuses a manifest that is not a contribution manifest', async () => {
    const bogus = await store.put(utf8('{"format":"something-else"}'));
    const h: Hex = contentHash([rowHash({ text: 'x' })]);
    await store.bindRef(contributionRef(h), bogus.hash);
    const err = await loadContribution(store, h).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContentStoreError);
    expect((err as Error).message).toMatch(new RegExp(`^stored contribution ${h} is inconsistent: manifest ${bogus.hash} is not a contribution manifest`));
  });
});
