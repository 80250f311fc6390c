// A quick throughput check of the engine on a tiny random model (not the benchmark: that is bench/serving).
// N clients each send one request after another for a few seconds, spread over A distinct adapters;
// generated tokens per second are reported for both scheduling modes.
//
//   npx tsx serving/engine/throughput.ts [--seconds 3] [--embd 32] [--layers 2] [--vocab 40] [--clients 1,10,50] [--adapters 1,10]
import { parseArgs } from 'node:util';
import { useTensorBackend } from '../backend.ts';
import { disposeModel } from '../gpt2.ts';
import type { Gpt2Config } from '../modelConfig.ts';
import type { Tokenizer } from '../tokenizer.ts';
import { createAdapterCache, modelBytes } from './adapterCache.ts';
import { createEngine, type Scheduling } from './engine.ts';
import { createRng } from './sampling.ts';
import { loaderOf, randomAdapters, tinyModel } from './testFixtures.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    embd: { type: 'string', default: '32' },
    layers: { type: 'string', default: '2' },
    vocab: { type: 'string', default: '40' },
    clients: { type: 'string', default: '1,10,50' },
    adapters: { type: 'string', default: '1,10' },
    backend: { type: 'string', default: 'wasm' },
  },
});
const seconds = Number(values.seconds);
const config: Gpt2Config = { vocabSize: Number(values.vocab), nPositions: 64, nEmbd: Number(values.embd), nLayer: Number(values.layers), nHead: 4, layerNormEpsilon: 1e-5 };
const PROMPT = 8;
const NEW_TOKENS = 32;

// A tokenizer whose end-of-text id (−1) the model never produces, so that every request generates exactly
// NEW_TOKENS and the cells compare the same work.
const tokenizer: Tokenizer = {
  vocabSize: config.vocabSize,
  eosToken: -1,
  encode: () => [],
  decode: (ids) => ids.map((i) => String.fromCharCode(97 + (i % 26))).join(''),
  createDecoder: () => ({ push: (i) => String.fromCharCode(97 + (i % 26)), flush: () => '' }),
};

await useTensorBackend(values.backend as 'wasm');
const model = tinyModel(1, config);
const hosts = randomAdapters(10, config);

interface Cell {
  /** Generated tokens per wall-clock second. */
  tokensPerSecond: number;
  /** Per second of this process's CPU time: the wasm backend is single-threaded, so on a machine shared with others this is what one free core would do. */
  tokensPerCpuSecond: number;
  meanBatch: number;
}

async function measure(scheduling: Scheduling, clients: number, distinct: number, cellSeconds = seconds): Promise<Cell> {
  const adapters = createAdapterCache({ load: loaderOf(hosts, 0), model: config, hostBudgetBytes: 1e9, deviceBudgetBytes: 12 * modelBytes(model) });
  const engine = createEngine({ model, tokenizer, adapters, scheduling, maxBatch: 32 });
  for (let i = 0; i < distinct; i++) await adapters.prefetch(`a${i}`, { toDevice: scheduling === 'mixed' });
  const rng = createRng(clients * 100 + distinct);
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const deadline = start + cellSeconds * 1000;
  let tokens = 0;
  let sent = 0;
  const client = async (c: number) => {
    while (performance.now() < deadline) {
      const adapter = `a${(c + sent++) % distinct}`;
      const prompt = Array.from({ length: PROMPT }, () => Math.floor(rng() * config.vocabSize));
      const r = await engine.submit({ adapter, prompt, maxTokens: NEW_TOKENS, temperature: 0 }).done;
      tokens += r.tokensOut;
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const m = engine.metrics();
  await engine.close();
  adapters.dispose();
  return { tokensPerSecond: tokens / elapsed, tokensPerCpuSecond: tokens / ((cpu.user + cpu.system) / 1e6), meanBatch: m.meanDecodeBatch };
}

// Warm up (wasm kernels, JIT) so that the first cell is not charged for it.
await measure('mixed', 4, 2, 1);
await measure('per-adapter', 4, 2, 1);

const rows: string[] = [];
rows.push(`model: vocab ${config.vocabSize}, n_embd ${config.nEmbd}, ${config.nLayer} layers; prompt ${PROMPT} tokens, ${NEW_TOKENS} new tokens, greedy; maxBatch 32; ${seconds} s per cell; backend ${values.backend}`);
rows.push('| clients | adapters | mixed tok/s (per CPU-s) | mean batch | per-adapter tok/s (per CPU-s) | mean batch | mixed / per-adapter (CPU) |');
rows.push('|---:|---:|---:|---:|---:|---:|---:|');
for (const clients of values.clients.split(',').map(Number)) {
  for (const distinct of values.adapters.split(',').map(Number)) {
    const mixed = await measure('mixed', clients, distinct);
    const per = await measure('per-adapter', clients, distinct);
    const cell = (c: Cell) => `${c.tokensPerSecond.toFixed(0)} (${c.tokensPerCpuSecond.toFixed(0)}) | ${c.meanBatch.toFixed(1)}`;
    rows.push(`| ${clients} | ${distinct} | ${cell(mixed)} | ${cell(per)} | ${(mixed.tokensPerCpuSecond / per.tokensPerCpuSecond).toFixed(2)}× |`);
    console.log(rows.at(-1));
  }
}
console.log(`\n${rows.join('\n')}`);
disposeModel(model);
