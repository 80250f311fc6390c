import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Address } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';
import { SpanIndexCorruptError, SpanIndexNotFoundError } from './errors.ts';
import { findSpans } from './findSpans.ts';
import { buildSpanCorpus, type SpanRow } from './spanCorpus.ts';
import { openSpanIndex, saveSpanIndex } from './spanIndex.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tributary-spans-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newFile = () => path.join(dir, `index-${files++}.spans`);

/** mulberry32: a seeded generator (fast-check is not installed). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function randomRows(seed: number, wide = false): SpanRow[] {
  const random = rng(seed);
  const int = (n: number) => Math.floor(random() * n);
  return Array.from({ length: 40 }, (_, r) => ({
    // A uint256-sized id and a checksummed address check the contribution table's encoding.
    contributionId: r < 20 ? 2n ** 255n + BigInt(r % 3) : BigInt(r % 5),
    rowIndex: r,
    contributor: (r < 20 ? `0xAbCdEf000000000000000000000000000000000${r % 3}` : `0x${(r % 5).toString(16).padStart(40, '0')}`) as Address,
    owned: r % 7 !== 0,
    tokens: Array.from({ length: int(60) }, () => (wide ? 100_000 : 0) + int(6)),
  }));
}

async function savedIndex(seed = 1, description: Record<string, unknown> = { note: 'test' }) {
  const rows = randomRows(seed);
  const corpus = buildSpanCorpus(rows);
  const file = newFile();
  await saveSpanIndex(file, corpus, description);
  return { rows, corpus, file };
}

const HEADER_BYTES = 72;

describe('span index files', () => {
  it('round-trips: the loaded arrays and every query equal the corpus built in memory', async () => {
    for (const wide of [false, true]) {
      const rows = randomRows(2, wide);
      const corpus = buildSpanCorpus(rows);
      const file = newFile();
      const saved = await saveSpanIndex(file, corpus, { datanetId: '7', version: '2' });
      const index = await openSpanIndex(file);
      expect(index.description).toEqual({ datanetId: '7', version: '2' });
      expect([index.tokens, index.rows, index.contributions, index.bytes, index.sha256]).toEqual([saved.tokens, 40, corpus.contributions.length, readFileSync(file).length, saved.sha256]);
      const loaded = await index.load();
      expect(loaded.text).toBeInstanceOf(wide ? Uint32Array : Uint16Array);
      expect(loaded).toEqual(corpus);
      expect(loaded.contributions[0]).toEqual({ contributionId: 2n ** 255n, contributor: '0xabcdef0000000000000000000000000000000000' });
      const random = rng(9);
      for (let i = 0; i < 50; i++) {
        const r = rows[Math.floor(random() * rows.length)]!.tokens as number[];
        const q = [...r.slice(3, 30), (wide ? 100_000 : 0) + 9, ...r.slice(0, 12)];
        const options = { minLength: 2, maxFrequency: 5, maxOccurrences: 3 };
        expect(await index.findSpans(q, options)).toEqual(findSpans(corpus, q, options));
      }
    }
  });

  it('writes the same bytes for the same rows', async () => {
    const a = await savedIndex(4);
    const b = await savedIndex(4);
    expect(readFileSync(a.file).equals(readFileSync(b.file))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reads nothing but the header until the first query', async () => {
    const { file } = await savedIndex(5);
    const index = await openSpanIndex(file);
    expect(index.loaded).toBe(false);
    // Damage the arrays after opening: only a read at query time can notice.
    const bytes = readFileSync(file);
    bytes[bytes.length - 100]! ^= 0xff;
    writeFileSync(file, bytes);
    expect(index.loaded).toBe(false);
    await expect(index.findSpans([1, 2, 3])).rejects.toThrow(SpanIndexCorruptError);
    expect(index.loaded).toBe(false);
    // Repaired, the same index loads on the next query.
    bytes[bytes.length - 100]! ^= 0xff;
    writeFileSync(file, bytes);
    await index.findSpans([1, 2, 3]);
    expect(index.loaded).toBe(true);
  });

  it('reports a changed byte anywhere after the header as corruption, with both hashes', async () => {
    const { file } = await savedIndex(6);
    const clean = readFileSync(file);
    for (const at of [HEADER_BYTES + 3, Math.floor(clean.length / 2), clean.length - 1]) {
      const bytes = Buffer.from(clean);
      bytes[at]! ^= 0x01;
      writeFileSync(file, bytes);
      const index = await openSpanIndex(file).catch((e: unknown) => e);
      if (index instanceof Error) {
        // A flip inside the description can break its JSON, which the open already notices.
        expect(index).toBeInstanceOf(SpanIndexCorruptError);
        continue;
      }
      await expect((index as Awaited<ReturnType<typeof openSpanIndex>>).load()).rejects.toThrow(/is corrupt: its content hashes to 0x[0-9a-f]{64}, its header says 0x[0-9a-f]{64}/);
    }
  });

  it('refuses truncated, extended, foreign and future files when opening, saying what is wrong', async () => {
    const { file } = await savedIndex(7);
    const clean = readFileSync(file);
    const expectOpen = async (bytes: Buffer, message: RegExp) => {
      writeFileSync(file, bytes);
      const error = await openSpanIndex(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SpanIndexCorruptError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain(file);
    };
    await expectOpen(clean.subarray(0, clean.length - 8), new RegExp(`is truncated: ${clean.length - 8} bytes, but its header describes ${clean.length}`));
    await expectOpen(clean.subarray(0, 10), /is truncated: 10 bytes, less than its 72-byte header/);
    await expectOpen(Buffer.concat([clean, Buffer.alloc(8)]), /has 8 bytes beyond the/);
    const foreign = Buffer.from(clean);
    foreign.write('PK\x03\x04', 0, 'latin1');
    await expectOpen(foreign, /is not a span index: it starts with/);
    const future = Buffer.from(clean);
    future.writeUInt32LE(2, 8);
    await expectOpen(future, /has format version 2; this code reads version 1/);
    const counts = Buffer.from(clean);
    counts.writeUInt32LE(counts.readUInt32LE(20) + 1, 20);
    await expectOpen(counts, /does not add up/);
  });

  it('notices a file cut short between opening and the first query', async () => {
    const { file } = await savedIndex(8);
    const index = await openSpanIndex(file);
    truncateSync(file, index.bytes - 16);
    await expect(index.load()).rejects.toThrow(new RegExp(`changed after it was opened: ${index.bytes - 16} bytes now, ${index.bytes} then`));
  });

  it('says when there is no index', async () => {
    await expect(openSpanIndex(path.join(dir, 'missing.spans'))).rejects.toThrow(SpanIndexNotFoundError);
    await expect(openSpanIndex(path.join(dir, 'missing.spans'))).rejects.toThrow(/there is no span index at .*missing\.spans/);
  });
});
