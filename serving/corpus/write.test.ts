import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CORPUS_VERSION, generateCorpus } from './generate.ts';
import { writeCorpus, type CorpusManifest } from './write.ts';

const dir = mkdtempSync(join(tmpdir(), 'tributary-corpus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('writeCorpus', () => {
  it('writes corpus.txt, documents.jsonl and a manifest that describes them exactly', async () => {
    const out = join(dir, 'api');
    const m = await writeCorpus(out, { seed: 4, documents: 150 });
    const docs = generateCorpus({ seed: 4, documents: 150 });
    const txt = readFileSync(join(out, 'corpus.txt'));
    const jsonl = readFileSync(join(out, 'documents.jsonl'));
    expect(txt.toString('utf8')).toBe(`${docs.join('\n\n')}\n`);
    expect(txt.toString('utf8').trimEnd().split(m.separator)).toEqual(docs);
    const rows = jsonl.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { kind: string; text: string });
    expect(rows.map((r) => r.text)).toEqual(docs);
    expect(m).toMatchObject({ version: CORPUS_VERSION, seed: 4, documents: 150, bytes: txt.length, sha256: sha256(txt), license: 'CC-BY-4.0' });
    expect(m.files['documents.jsonl']).toEqual({ bytes: jsonl.length, sha256: sha256(jsonl) });
    expect(Object.values(m.kinds).reduce((a, b) => a + (b ?? 0), 0)).toBe(150);
    expect(m.gpt2Tokens).toBeGreaterThan(m.words);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).toEqual(m);
  });

  it('writes the same bytes again for the same options', async () => {
    const a = await writeCorpus(join(dir, 'a'), { seed: 9, documents: 60 });
    const b = await writeCorpus(join(dir, 'b'), { seed: 9, documents: 60 });
    expect(b).toEqual(a);
    expect(readFileSync(join(dir, 'b', 'manifest.json'))).toEqual(readFileSync(join(dir, 'a', 'manifest.json')));
  });
});

describe('write.ts command line', () => {
  const script = fileURLToPath(new URL('./write.ts', import.meta.url));
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8' });

  it('writes a corpus and reports it in one line', () => {
    const out = join(dir, 'cli');
    const p = run('--out', out, '--seed', '2', '--documents', '25');
    expect(p.stderr).toBe('');
    expect(p.status).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as CorpusManifest;
    expect(p.stdout).toMatch(new RegExp(`^wrote 25 documents \\(${m.bytes} bytes, ${m.words} words, ${m.distinctWords} distinct, ${m.gpt2Tokens} GPT-2 tokens\\) to .* in [0-9.]+ s; sha256 ${m.sha256}\\n$`));
  });

  it('exits 2 with the reason on bad arguments', () => {
    const noOut = run('--documents', '3');
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toMatch(/^--out is required\n/);
    const badSeed = run('--out', join(dir, 'x'), '--seed=-1');
    expect(badSeed.status).toBe(2);
    expect(badSeed.stderr).toBe('--seed must be a non-negative integer, got "-1"\n');
  });
});
