// The span-matching benchmark (issue #5): `npx tsx bench/attribution/spans.ts [--quick] [--json]`.
// Builds a suffix-array index over ~1M tokens of generated English, saves and reloads it, and times
// queries of 32–64-token outputs; then, on a smaller corpus, the same outputs against a linear scan, with
// the ratio. See README-spans.md beside this file for the method and the results.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { findSpans, DEFAULT_FIND_SPANS_OPTIONS } from '../../attribution/index.ts';
import { buildSpanCorpus } from '../../attribution/index.ts';
import { openSpanIndex, saveSpanIndex } from '../../attribution/index.ts';
import { gpt2Tokenizer } from '../../serving/index.ts';
import { naiveCorpus, naiveFindSpans } from './spansNaive.ts';
import { makeSpanWorkload, OUTPUT_KINDS, type OutputKind } from './spansWorkload.ts';

const { values } = parseArgs({
  options: {
    tokens: { type: 'string' },
    'naive-tokens': { type: 'string' },
    outputs: { type: 'string' },
    seed: { type: 'string', default: '1' },
    repeat: { type: 'string' },
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(`usage: npx tsx bench/attribution/spans.ts [options]
  --tokens N         tokens in the indexed corpus (default 1000000; --quick 100000)
  --naive-tokens N   tokens in the corpus of the index-versus-linear-scan comparison (default 100000; --quick 20000)
  --outputs N        outputs queried (default 200; --quick 60), a third each copied-with-edits, fresh, random
  --seed N           corpus and output seed (default 1)
  --repeat N         times each output is queried in each arm, interleaved (default 5; --quick 2)
  --quick            a small run
  --json             print the results as JSON
`);
  process.exit(0);
}
const int = (name: string, value: string | undefined, fallback: number) => {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) {
    process.stderr.write(`--${name} must be a positive integer, got ${value}\n`);
    process.exit(2);
  }
  return n;
};
const quick = values.quick;
const tokens = int('tokens', values.tokens, quick ? 100_000 : 1_000_000);
const naiveTokens = int('naive-tokens', values['naive-tokens'], quick ? 20_000 : 100_000);
const outputs = int('outputs', values.outputs, quick ? 60 : 200);
const seed = int('seed', values.seed, 1);
const repeat = int('repeat', values.repeat, quick ? 2 : 5);
const options = DEFAULT_FIND_SPANS_OPTIONS;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const stats = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: ms.reduce((a, b) => a + b, 0) / ms.length };
};
/** Every timing, and each output's fastest: on a shared machine the first shows the noise, the second the work. */
const latencyStats = (perOutput: number[][]) => ({ all: stats(perOutput.flat()), fastest: stats(perOutput.map((ts) => Math.min(...ts))) });
const now = () => performance.now();
const loadStart = loadavg();
const tokenizer = gpt2Tokenizer();

// ---- The full-size index: build, save, open, load, query.
let t = now();
const big = makeSpanWorkload({ tokens, outputs, seed, tokenizer });
const generateMs = now() - t;
t = now();
const corpus = buildSpanCorpus(big.rows);
const buildMs = now() - t;
// Built again, for the time once the code is compiled (the first build includes the JIT's work).
t = now();
buildSpanCorpus(big.rows);
const rebuildMs = now() - t;
const dir = mkdtempSync(path.join(tmpdir(), 'tributary-bench-spans-'));
const file = path.join(dir, 'bench.spans');
const result = await measure().finally(() => rmSync(dir, { recursive: true, force: true }));

async function measure() {
  t = now();
  await saveSpanIndex(file, corpus, { bench: 'spans', seed });
  const saveMs = now() - t;
  t = now();
  const index = await openSpanIndex(file);
  const openMs = now() - t;
  t = now();
  await index.load();
  const loadMs = now() - t;
  // One untimed pass so the JIT has compiled the search before the timed one.
  for (const o of big.outputs) await index.findSpans(o.tokens, options);
  const latency = big.outputs.map(() => [] as number[]);
  const spansFound: Record<OutputKind, number[]> = { copied: [], fresh: [], random: [] };
  for (let rep = 0; rep < repeat; rep++) {
    for (const [i, o] of big.outputs.entries()) {
      t = now();
      const match = await index.findSpans(o.tokens, options);
      latency[i]!.push(now() - t);
      if (rep === 0) spansFound[o.kind].push(match.spans.length);
    }
  }
  const ofKind = (k: OutputKind) => latency.filter((_, i) => big.outputs[i]!.kind === k);

  // ---- Index versus linear scan on a smaller corpus (same generator, same seed: its first documents).
  const small = makeSpanWorkload({ tokens: naiveTokens, outputs, seed, tokenizer });
  const smallCorpus = buildSpanCorpus(small.rows);
  const scan = naiveCorpus(small.rows);
  for (const o of small.outputs.slice(0, 20)) findSpans(smallCorpus, o.tokens, options); // warm-up
  const indexed = small.outputs.map(() => [] as number[]);
  const naive = small.outputs.map(() => [] as number[]);
  let agree = 0;
  for (let rep = 0; rep < repeat; rep++) {
    for (const [i, o] of small.outputs.entries()) {
      t = now();
      const a = findSpans(smallCorpus, o.tokens, options);
      indexed[i]!.push(now() - t);
      t = now();
      const b = naiveFindSpans(scan, o.tokens, options);
      naive[i]!.push(now() - t);
      if (rep === 0 && JSON.stringify(a.spans.map(({ start, length, count }) => ({ start, length, count }))) === JSON.stringify(b)) agree++;
    }
  }

  return {
    machine: { cores: availableParallelism(), node: process.version, loadStart: loadStart.map((x) => +x.toFixed(2)), loadEnd: loadavg().map((x) => +x.toFixed(2)) },
    options,
    corpus: { tokens: big.tokens, rows: big.rows.length, contributions: corpus.contributions.length, tokenWidthBytes: corpus.text.BYTES_PER_ELEMENT, generateMs },
    index: { buildMs, rebuildMs, saveMs, openMs, loadMs, bytes: index.bytes, bytesPerToken: index.bytes / big.tokens },
    queries: {
      outputs: big.outputs.length,
      repeat,
      all: latencyStats(latency),
      byKind: Object.fromEntries(OUTPUT_KINDS.map((k) => [k, { ...latencyStats(ofKind(k)), spansPerOutput: spansFound[k].reduce((a, b) => a + b, 0) / spansFound[k].length }])) as Record<OutputKind, ReturnType<typeof latencyStats> & { spansPerOutput: number }>,
    },
    versusScan: { tokens: small.tokens, outputs: small.outputs.length, repeat, indexed: latencyStats(indexed), naive: latencyStats(naive), agree },
  };
}

if (values.json) {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} else {
  const r = result;
  const ms = (x: number) => (x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(0));
  const row = (name: string, x: ReturnType<typeof latencyStats>, extra = '') => `| ${name} | ${ms(x.all.p50)} | ${ms(x.all.p99)} | ${ms(x.all.mean)} | ${ms(x.fastest.p50)} | ${ms(x.fastest.p99)} |${extra}`;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(0)}×`;
  const v = r.versusScan;
  const lines = [
    `span matching: ${r.machine.cores} cores, node ${r.machine.node}, load average ${r.machine.loadStart.join(' ')} at start, ${r.machine.loadEnd.join(' ')} at end`,
    `options: minLength ${options.minLength}, maxFrequency ${options.maxFrequency}, maxOccurrences ${options.maxOccurrences}`,
    '',
    `corpus: ${r.corpus.tokens.toLocaleString('en')} tokens in ${r.corpus.rows.toLocaleString('en')} rows, ${r.corpus.contributions} contributions, ${r.corpus.tokenWidthBytes}-byte tokens (generated and tokenized in ${ms(r.corpus.generateMs)} ms)`,
    `| build (first / again) | save | open (header) | first load (read + SHA-256 + checks) | file bytes | bytes per token |`,
    `|---:|---:|---:|---:|---:|---:|`,
    `| ${ms(r.index.buildMs)} / ${ms(r.index.rebuildMs)} ms | ${ms(r.index.saveMs)} ms | ${ms(r.index.openMs)} ms | ${ms(r.index.loadMs)} ms | ${r.index.bytes.toLocaleString('en')} | ${r.index.bytesPerToken.toFixed(2)} |`,
    '',
    `query latency, ${r.queries.outputs} outputs of 32–64 tokens, each queried ${repeat} times (ms; "fastest" = each output's fastest time):`,
    `| outputs | p50 | p99 | mean | fastest p50 | fastest p99 | kept spans per output |`,
    `|---|---:|---:|---:|---:|---:|---:|`,
    ...OUTPUT_KINDS.map((k) => row(k, r.queries.byKind[k], ` ${r.queries.byKind[k].spansPerOutput.toFixed(2)} |`)),
    row('all', r.queries.all, ' |'),
    '',
    `index versus linear scan, ${v.tokens.toLocaleString('en')} tokens, ${v.outputs} outputs × ${repeat}, interleaved (ms; same spans for ${v.agree}/${v.outputs}):`,
    `| arm | p50 | p99 | mean | fastest p50 | fastest p99 |`,
    `|---|---:|---:|---:|---:|---:|`,
    row('suffix array', v.indexed),
    row('linear scan', v.naive),
    `| scan / index | ${ratio(v.naive.all.p50, v.indexed.all.p50)} | ${ratio(v.naive.all.p99, v.indexed.all.p99)} | ${ratio(v.naive.all.mean, v.indexed.all.mean)} | ${ratio(v.naive.fastest.p50, v.indexed.fastest.p50)} | ${ratio(v.naive.fastest.p99, v.indexed.fastest.p99)} |`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
