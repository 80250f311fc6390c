import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Address, Hex } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';
import type { DatanetVersion, DatanetVersionRow, Row } from '../../schema/index.ts';
import { formatRow, gpt2Tokenizer, shapeOfRow, toExample } from '../../serving/index.ts';
import { SpanIndexError } from './errors.ts';
import type { SpanRow } from './spanCorpus.ts';
import { buildVersionSpanIndex, versionSpanIndex, versionSpanIndexFile, versionSpanRows } from './versionSpanIndex.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tributary-version-spans-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tokenizer = gpt2Tokenizer();
const alice = '0x00000000000000000000000000000000000a11ce' as Address;
const bob = '0x0000000000000000000000000000000000000b0b' as Address;

const ROWS: [bigint, Address, Row, boolean][] = [
  [1n, alice, { text: 'Sea otters wrap themselves in kelp so that the tide does not carry them away while they sleep.' }, true],
  [1n, alice, { prompt: 'What do puffins eat?', completion: 'Puffins eat small fish such as sand eels, which they carry crosswise in their beaks.' }, true],
  [2n, bob, { text: 'The review said: great kettle, boils fast, but the lid sticks.', label: 'neutral' }, true],
  [2n, bob, { text: 'Sea otters wrap themselves in kelp so that the tide does not carry them away while they sleep.' }, false],
];

/** A published version as schema's openDatanetVersion answers it, with its rows from memory. */
function fakeVersion(root: Hex = `0x${'11'.repeat(32)}`): Pick<DatanetVersion, 'datanetId' | 'version' | 'root' | 'rows'> {
  return {
    datanetId: 3n,
    version: 2n,
    root,
    async *rows() {
      const perContribution = new Map<bigint, number>();
      for (const [contributionId, contributor, row, owned] of ROWS) {
        const rowIndex = perContribution.get(contributionId) ?? 0;
        perContribution.set(contributionId, rowIndex + 1);
        yield { contributionId, rowIndex, rowHash: `0x${'00'.repeat(32)}`, contributor, shape: shapeOfRow(row), row, owned } satisfies DatanetVersionRow;
      }
    },
  };
}

describe('version span indexes', () => {
  it('tokenizes each row as the trainer does: prompt, target, end of text, untruncated', async () => {
    const rows: SpanRow[] = [];
    for await (const r of versionSpanRows(fakeVersion(), tokenizer)) rows.push(r);
    expect(rows.map((r) => [r.contributionId, r.rowIndex, r.owned])).toEqual([[1n, 0, true], [1n, 1, true], [2n, 0, true], [2n, 1, false]]);
    ROWS.forEach(([, , row], i) => expect(rows[i]!.tokens).toEqual(toExample(row, tokenizer, 10_000).tokens));
    // Spelled out for one row, so the test does not only restate toExample.
    expect(rows[1]!.tokens).toEqual([...tokenizer.encode('Question: What do puffins eat?\nAnswer:'), ...tokenizer.encode(' Puffins eat small fish such as sand eels, which they carry crosswise in their beaks.'), tokenizer.eosToken]);
  });

  it('finds a model answer in the training text of the row it came from', async () => {
    const index = await buildVersionSpanIndex({ version: fakeVersion(), tokenizer, tokenizerKey: 'gpt2', dir });
    expect(index.file).toBe(path.join(dir, 'datanet-3', 'version-2.gpt2.spans'));
    // What a model trained on the row would generate after the row's prompt.
    const output = tokenizer.encode(`${formatRow(ROWS[1]![2]).target} They nest in burrows.`);
    const match = await index.findSpans(output);
    expect(match.spans).toHaveLength(1);
    expect(match.spans[0]).toMatchObject({ start: 0, count: 1, occurrences: [{ contributionId: 1n, rowIndex: 1, contributor: alice, owned: true }] });
    expect(match.spans[0]!.length).toBe(tokenizer.encode(formatRow(ROWS[1]![2]).target).length);
    // The otter sentence is in alice's row and in bob's copy; only alice's is credited.
    const otters = await index.findSpans(tokenizer.encode('Sea otters wrap themselves in kelp so that the tide does not carry them away'));
    expect(otters.spans[0]!.occurrences.map((o) => [o.contributionId, o.owned])).toEqual([[1n, true], [2n, false]]);
    expect(otters.evidence.map((e) => e.contributionId)).toEqual([1n]);
  });

  it('reuses the saved index of the same version and rebuilds when the root differs', async () => {
    const own = mkdtempSync(path.join(dir, 'reuse-'));
    const built = await versionSpanIndex({ version: fakeVersion(), tokenizer, tokenizerKey: 'vocab-abc', dir: own });
    const again = await versionSpanIndex({ version: fakeVersion(), tokenizer, tokenizerKey: 'vocab-abc', dir: own });
    expect(again.loaded).toBe(false); // opened, not built
    expect(again.sha256).toBe(built.sha256);
    expect(again.description).toMatchObject({ datanetId: '3', version: '2', tokenizerKey: 'vocab-abc', textFormat: 'tributary-prompt-v1' });
    const redeployed = await versionSpanIndex({ version: fakeVersion(`0x${'22'.repeat(32)}`), tokenizer, tokenizerKey: 'vocab-abc', dir: own });
    expect(redeployed.loaded).toBe(true); // built anew
    expect(redeployed.description.root).toBe(`0x${'22'.repeat(32)}`);
  });

  it('refuses a tokenizer key that cannot name a file', () => {
    for (const key of ['', '../x', '.hidden', 'a/b', 'x'.repeat(81)]) {
      expect(() => versionSpanIndexFile(dir, { datanetId: 1n, version: 1n, tokenizerKey: key })).toThrow(SpanIndexError);
    }
    expect(() => versionSpanIndexFile(dir, { datanetId: 1n, version: 1n, tokenizerKey: '../x' })).toThrow(/tokenizer key "..\/x" cannot name a file/);
  });
});
