// The canonical score file: one encoding per content (sorted, lowercase, exact weights), a parser that
// accepts only that encoding and says which line is wrong, and a hash that follows the bytes.
import { describe, expect, it } from 'vitest';
import { getAddress, keccak256, type Address, type Hex } from 'viem';
import { ScoreFileError } from './errors.ts';
import { SCORE_FILE_HEADER, WEIGHT_SCALE, canonicalEntries, encodeScoreFile, encodeScoreFileParts, parseScoreFile, scoreFileHash, type ScoreEntry, type ScoreFile } from './scoreFile.ts';
import { buildPayoutBatch } from './buildBatch.ts';
import { createScoreFileReader } from './scoreFileReader.ts';
import { addressOf, id32, seeded } from './testing/random.ts';

const A = addressOf('a');
const B = addressOf('b');
const R1 = id32('r1');
const R2 = id32('r2');
const [LO, HI] = R1 < R2 ? [R1, R2] : [R2, R1];
const half = WEIGHT_SCALE / 2n;

const entries: ScoreEntry[] = [
  { requestId: HI, contributionId: 7n, account: getAddress(B), weight: WEIGHT_SCALE },
  { requestId: LO, contributionId: 12n, account: A, weight: half },
  { requestId: LO, contributionId: 3n, account: getAddress(B), weight: half },
];

function parseError(text: string): ScoreFileError {
  try {
    parseScoreFile(text);
  } catch (e) {
    if (e instanceof ScoreFileError) return e;
    throw e;
  }
  throw new Error('expected a ScoreFileError');
}

describe('encodeScoreFile()', () => {
  it('writes the header, the epoch and one sorted, lowercase line per entry', () => {
    const text = new TextDecoder().decode(encodeScoreFile({ epoch: 42n, entries }));
    expect(text).toBe(
      [
        'tributary-score-file 1',
        'epoch 42',
        `${LO}\t3\t${B}\t500000000000000000`,
        `${LO}\t12\t${A}\t500000000000000000`,
        `${HI}\t7\t${B}\t1000000000000000000`,
        '',
      ].join('\n'),
    );
  });

  it('gives the same bytes and hash whatever the order and case of the entries', () => {
    const a = encodeScoreFile({ epoch: 42n, entries });
    const b = encodeScoreFile({ epoch: 42n, entries: [...entries].reverse().map((e) => ({ ...e, account: e.account.toLowerCase() as Address, requestId: e.requestId.toUpperCase().replace('0X', '0x') as Hex })) });
    expect(b).toEqual(a);
    expect(scoreFileHash(a)).toBe(keccak256(a));
    expect(scoreFileHash(encodeScoreFile({ epoch: 43n, entries }))).not.toBe(scoreFileHash(a));
  });

  it('encodes an epoch with no attributed inference as the two header lines', () => {
    expect(new TextDecoder().decode(encodeScoreFile({ epoch: 1n, entries: [] }))).toBe('tributary-score-file 1\nepoch 1\n');
  });

  it('refuses weights that do not sum to WEIGHT_SCALE, duplicates, a contribution paid to two accounts and bad fields', () => {
    expect(() => encodeScoreFile({ epoch: 1n, entries: [{ requestId: R1, contributionId: 1n, account: A, weight: half }] })).toThrow(
      `score file: the weights of inference ${R1} sum to 500000000000000000, not WEIGHT_SCALE (1000000000000000000)`,
    );
    expect(() => encodeScoreFile({ epoch: 1n, entries: [entries[1]!, { ...entries[1]! }] })).toThrow(`score file: inference ${LO} lists contribution 12 twice`);
    expect(() =>
      encodeScoreFile({ epoch: 1n, entries: [{ requestId: R1, contributionId: 1n, account: A, weight: WEIGHT_SCALE }, { requestId: R2, contributionId: 1n, account: B, weight: WEIGHT_SCALE }] }),
    ).toThrow(`contribution 1 is paid to`);
    expect(() => encodeScoreFile({ epoch: 1n, entries: [{ ...entries[0]!, weight: 0n }] })).toThrow('score file: entry 0: weight must be an integer from 1 to WEIGHT_SCALE (1000000000000000000), got 0');
    expect(() => encodeScoreFile({ epoch: 1n, entries: [{ ...entries[0]!, account: `0x${'0'.repeat(40)}` }] })).toThrow('score file: entry 0: account must not be the zero address');
    expect(() => encodeScoreFile({ epoch: 1n, entries: [{ ...entries[0]!, requestId: '0x12' }] })).toThrow('score file: entry 0: requestId must be 0x and 64 hex digits, got 0x12');
    expect(() => encodeScoreFile({ epoch: -1n, entries: [] })).toThrow('score file: epoch must be a uint256 bigint, got -1');
  });
});

describe('parseScoreFile()', () => {
  it('reads back what encodeScoreFile() wrote, over 100 seeded files', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const r = seeded(seed);
      const list: ScoreEntry[] = [];
      const accountOf = new Map<bigint, Address>();
      for (let i = 0; i < 1 + r.int(8); i++) {
        const requestId = id32(`seed ${seed} inference ${i}`);
        const n = 1 + r.int(5);
        const ids = new Set<bigint>();
        while (ids.size < n) ids.add(BigInt(r.int(30)));
        let left = WEIGHT_SCALE;
        [...ids].forEach((c, k) => {
          const w = k === n - 1 ? left : 1n + r.big(left - BigInt(n - k));
          left -= w;
          if (!accountOf.has(c)) accountOf.set(c, addressOf(`${seed} ${r.int(5)}`));
          list.push({ requestId, contributionId: c, account: accountOf.get(c)!, weight: w });
        });
      }
      const bytes = encodeScoreFile({ epoch: BigInt(seed), entries: list });
      const parsed = parseScoreFile(bytes);
      expect(encodeScoreFile(parsed), `seed ${seed}`).toEqual(bytes);
      expect(parsed.entries).toHaveLength(list.length);
    }
  });

  it('accepts only the canonical encoding, naming the line that is not', () => {
    const good = new TextDecoder().decode(encodeScoreFile({ epoch: 42n, entries }));
    const lines = good.split('\n');
    const swap = [lines[0], lines[1], lines[3], lines[2], lines[4], ''].join('\n');
    expect(parseError(swap).message).toBe(`score file line 4: lines are not sorted by (requestId, contributionId): ${LO} 3 comes after ${LO} 12`);
    expect(parseError(swap).line).toBe(4);
    expect(parseError(good.replace(B, getAddress(B))).message).toBe(`score file line 3: account must be 0x and 40 lowercase hex digits, got "${getAddress(B)}"`);
    expect(parseError(good.replace('\t3\t', '\t03\t')).message).toBe('score file line 3: contributionId must be a decimal without sign or leading zeros, got "03"');
    expect(parseError(good.replace('epoch 42', 'epoch 042')).message).toBe('score file line 2: expected "epoch <decimal>", got "epoch 042"');
    expect(parseError(good.replace('tributary-score-file 1', 'tributary-score-file 2')).message).toBe('score file line 1: expected the header "tributary-score-file 1", got "tributary-score-file 2"');
    expect(parseError(good.slice(0, -1)).message).toBe('score file: must end with a newline ("\\n")');
    expect(parseError(good.replace(/\n/g, '\r\n')).message).toBe('score file line 1: contains a carriage return: lines end with "\\n" only');
    expect(parseError(good.replace('\t1000000000000000000', '\t999999999999999999')).message).toBe(
      `score file line 5: the weights of inference ${HI} sum to 999999999999999999, not WEIGHT_SCALE (1000000000000000000)`,
    );
    expect(parseError(`${good}${HI}\t9\t${A}\n`).message).toBe(`score file line 6: expected 4 tab-separated fields (requestId, contributionId, account, weight), got 3: "${HI}\\t9\\t${A}"`);
    expect(parseError(good.replace('\t500000000000000000\n', '\t0\n')).message).toBe('score file line 3: weight must be an integer from 1 to WEIGHT_SCALE (1000000000000000000), got 0');
    expect(() => parseScoreFile(new Uint8Array([0xff, 0xfe]))).toThrow('score file: not valid UTF-8');
    expect(parseError(`\ufeff${good}`).message).toBe('score file line 1: starts with a byte-order mark');
  });
});

/** The encoder as it was before files came in parts (one string for the whole file): the reference bytes. */
function singleStringEncoding(file: ScoreFile): Uint8Array {
  const lines = [SCORE_FILE_HEADER, `epoch ${file.epoch}`];
  for (const e of canonicalEntries(file.entries)) lines.push(`${e.requestId}\t${e.contributionId}\t${e.account}\t${e.weight}`);
  return new TextEncoder().encode(`${lines.join('\n')}\n`);
}

/** A valid random file: `inferences` inferences of 1–80 contributions each, weights summing to WEIGHT_SCALE. */
function randomFile(seed: number, inferences: number): ScoreFile {
  const r = seeded(seed);
  const accountOf = (c: bigint) => addressOf(`account ${c % 97n}`);
  const entries: ScoreEntry[] = [];
  for (let i = 0; i < inferences; i++) {
    const requestId = id32(`seed ${seed} inference ${i}`);
    const ids = new Set<bigint>();
    const n = 1 + r.int(80);
    while (ids.size < n) ids.add(BigInt(r.int(1000)) * (r.bool(0.01) ? 10n ** 60n : 1n));
    let left = WEIGHT_SCALE;
    [...ids].forEach((c, k) => {
      const w = k === n - 1 ? left : 1n + r.big(left - BigInt(n - k));
      left -= w;
      entries.push({ requestId: r.bool() ? requestId : (requestId.toUpperCase().replace('0X', '0x') as Hex), contributionId: c, account: r.bool() ? getAddress(accountOf(c)) : accountOf(c), weight: w });
    });
  }
  return { epoch: BigInt(seed) * 10n ** 30n, entries };
}

/** Cuts bytes at seeded random places, some inside a line, some inside nothing (empty parts). */
function cutAnywhere(bytes: Uint8Array, seed: number, pieces: number): Uint8Array[] {
  const r = seeded(seed);
  const cuts = Array.from({ length: pieces - 1 }, () => r.int(bytes.length + 1)).sort((a, b) => a - b);
  return [0, ...cuts].map((from, i) => bytes.subarray(from, [...cuts, bytes.length][i]));
}

describe('a score file in parts', () => {
  const file = randomFile(7, 2500); // about 100,000 lines, 13 MB
  const reference = singleStringEncoding(file);

  it('encodes to the same bytes as one string did, whatever the part size, and hashes the same over parts', () => {
    expect(file.entries.length).toBeGreaterThan(90_000);
    for (const partBytes of [undefined, 4096, 1_000_003, 1]) {
      const parts = encodeScoreFileParts(file, partBytes === undefined ? {} : { partBytes });
      if (partBytes === undefined) expect(parts.length).toBe(Math.ceil(reference.length / 2 ** 20)); // about 1 MiB each
      expect(parts.every((p) => p.length > 0)).toBe(true);
      expect(Buffer.concat(parts).equals(Buffer.from(reference)), `parts of ${partBytes}`).toBe(true);
      if (partBytes === undefined || partBytes === 4096) expect(scoreFileHash(parts)).toBe(keccak256(reference));
    }
    expect(Buffer.from(encodeScoreFile(file)).equals(Buffer.from(reference))).toBe(true);
  });

  it('parses from parts cut anywhere (inside lines, between a character\'s bytes) to the same entries as from one buffer', () => {
    const whole = parseScoreFile(reference);
    expect(whole.entries).toHaveLength(file.entries.length);
    const cut = parseScoreFile(cutAnywhere(reference, 3, 5000));
    expect(cut.epoch).toBe(file.epoch);
    expect(cut.entries).toEqual(whole.entries);
    // Non-ASCII never appears in a canonical file, but a wrong one split inside a character still reads as UTF-8.
    const bytes = new TextEncoder().encode(`${SCORE_FILE_HEADER}\nepoch é\n`);
    const at = bytes.indexOf(0xc3) + 1;
    expect(() => parseScoreFile([bytes.subarray(0, at), bytes.subarray(at)])).toThrow('score file line 2: expected "epoch <decimal>", got "epoch é"');
  });

  it('builds the same batch from entries, from one buffer and from parts', () => {
    const pools = [...new Set(file.entries.map((e) => e.requestId.toLowerCase() as Hex))].map((requestId, i) => ({ requestId, epoch: file.epoch, poolAmount: 10n ** 15n + BigInt(i) }));
    const fromEntries = buildPayoutBatch({ scores: file, pools, previous: [] });
    const fromBuffer = buildPayoutBatch({ scores: reference, pools, previous: [] });
    const fromParts = buildPayoutBatch({ scores: cutAnywhere(reference, 4, 300), pools, previous: [] });
    for (const b of [fromBuffer, fromParts]) {
      expect([b.root, b.total, b.scoreFileHash, b.scoreFileSize, b.allocation.amounts]).toEqual([fromEntries.root, fromEntries.total, fromEntries.scoreFileHash, reference.length, fromEntries.allocation.amounts]);
    }
    expect(fromEntries.scoreFileHash).toBe(keccak256(reference));
  });

  it('hands entries to the reader’s caller one line at a time, checked, with their line numbers', () => {
    const lines: number[] = [];
    let epoch: bigint | undefined;
    const reader = createScoreFileReader({ onEpoch: (e) => (epoch = e), onEntry: (_, line) => lines.push(line) });
    const small = encodeScoreFile({ epoch: 42n, entries });
    const afterLine = (n: number) => small.reduce((at, b, i) => (b === 10 && small.subarray(0, i).filter((x) => x === 10).length === n - 1 ? i + 1 : at), -1);
    reader.push(small.subarray(0, 20));
    expect(epoch).toBeUndefined();
    reader.push(small.subarray(20, afterLine(3) + 5));
    expect([epoch, lines]).toEqual([42n, [3]]);
    reader.push(small.subarray(afterLine(3) + 5));
    expect(reader.end()).toEqual({ epoch: 42n, entries: 3 });
    expect(lines).toEqual([3, 4, 5]);
    // A line that never ends is refused once it is longer than any canonical line, not held.
    const endless = createScoreFileReader();
    endless.pushText(`${SCORE_FILE_HEADER}\nepoch 1\n`);
    expect(() => endless.pushText('9'.repeat(2000))).toThrow('score file line 3: the line is longer than 1024 characters');
  });

  it('refuses a part-wise file for the same reasons as a whole one', () => {
    const good = encodeScoreFile({ epoch: 42n, entries });
    expect(() => parseScoreFile([good.subarray(0, 10), good.subarray(10, -1)])).toThrow('score file: must end with a newline ("\\n")');
    expect(() => parseScoreFile([])).toThrow('score file: must end with a newline ("\\n")');
    expect(() => parseScoreFile([new TextEncoder().encode(`${SCORE_FILE_HEADER}\n`)])).toThrow('score file line 2: expected "epoch <decimal>", got ""');
    const text = new TextDecoder().decode(good).replace('\t1000000000000000000', '\t999999999999999999');
    const bytes = new TextEncoder().encode(text);
    expect(() => parseScoreFile(cutAnywhere(bytes, 9, 20))).toThrow(`score file line 5: the weights of inference ${HI} sum to 999999999999999999`);
  });
});
