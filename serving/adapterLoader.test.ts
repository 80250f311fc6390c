import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAdapterConfig, parseHostAdapter, readHostAdapter, writeAdapter } from './adapterFiles.ts';
import { createAdapterLoader, type AdapterLoader } from './adapterLoader.ts';
import { useTensorBackend } from './backend.ts';
import { createAdapterCache, type HostAdapter } from './engine/adapterCache.ts';
import { createEngine } from './engine/engine.ts';
import { UnknownAdapterError } from './engine/errors.ts';
import { fakeTokenizer, TINY, tinyModel } from './engine/testFixtures.ts';
import { disposeModel } from './gpt2.ts';
import { createLora, disposeLora } from './lora.ts';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from './loraWeights.ts';
import { readSafetensors, writeSafetensors, type SafetensorsInput } from './safetensors.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tributary-adapter-loader-'));
const at = (...p: string[]) => path.join(dir, ...p);

/** Every field of two host adapters, arrays as plain lists (so a difference shows where it is). */
const plain = (h: HostAdapter) => ({
  config: h.config,
  modules: [...h.modules].map(([name, m]) => ({ name, a: Array.from(m.a), aShape: m.aShape, b: Array.from(m.b), bShape: m.bShape })),
});

/** What a call throws: its class and message, or 'no error'. */
async function outcome(f: () => unknown): Promise<string> {
  try {
    await f();
    return 'no error';
  } catch (e) {
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
}

/** Runs a Node child to its exit and answers its code and output (a child that never exits times the test out). */
function runNode(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: process.cwd() });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

describe('adapter loader', () => {
  let loader: AdapterLoader;

  beforeAll(async () => {
    await useTensorBackend('wasm');
    // Ranks 2, 4 and 8 over different modules, as the engine's fixtures use.
    const shapes = [
      { r: 2, targets: ['c_attn'] },
      { r: 4, targets: ['c_attn', 'c_proj'] },
      { r: 8, targets: ['c_attn', 'c_proj', 'c_fc'] },
    ];
    for (const [i, s] of shapes.entries()) {
      const lora = createLora(TINY, { r: s.r, alpha: 8, targets: s.targets, seed: 20 + i, randomB: 0.3 });
      await writeAdapter(at(`a${i}`), lora);
      disposeLora(lora);
    }
    loader = createAdapterLoader();
  });
  afterAll(async () => {
    await loader.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads adapters in its worker thread, to the same config, modules and weights as readHostAdapter', async () => {
    const before = loader.stats();
    for (const name of ['a0', 'a1', 'a2']) expect(plain(await loader.read(at(name)))).toEqual(plain(readHostAdapter(at(name))));
    const reads = await Promise.all(['a0', 'a1', 'a2', 'a2'].map((n) => loader.read(at(n))));
    expect(reads.map((h) => h.modules.size)).toEqual([2, 6, 8, 8]);
    expect(loader.stats()).toMatchObject({ workers: 1, inWorker: before.inWorker + 7, onMainThread: before.onMainThread, pending: 0 });
  });

  it('decodes weights it is given (a content store’s bytes) in the worker, as parseHostAdapter does, leaving the caller’s bytes intact', async () => {
    const config = parseAdapterConfig(readFileSync(at('a1', ADAPTER_CONFIG_FILE), 'utf8'), 'a1 config');
    const bytes = readFileSync(at('a1', ADAPTER_WEIGHTS_FILE)); // a Buffer, as content stores answer
    const kept = Array.from(bytes);
    // Also a view into a larger buffer (a small Buffer usually is one, of Node's shared pool).
    const padded = new Uint8Array(bytes.byteLength + 16);
    padded.set(bytes, 8);
    const view = padded.subarray(8, 8 + bytes.byteLength);
    const before = loader.stats();
    for (const weights of [bytes, view]) {
      const host = await loader.parse(config, weights, 'adapter a1 (content store)');
      expect(plain(host)).toEqual(plain(parseHostAdapter(config, bytes, 'adapter a1 (content store)')));
    }
    expect(Array.from(bytes)).toEqual(kept);
    expect(padded.byteLength).toBe(bytes.byteLength + 16); // not detached
    expect(loader.stats().inWorker).toBe(before.inWorker + 2);
  });

  it('reads on the main thread whatever the worker cannot decode, with the same result or error (class and message) as readHostAdapter', async () => {
    const good = at('a1');
    const weightsOf = (d: string) => path.join(d, ADAPTER_WEIGHTS_FILE);
    const bytes = readFileSync(weightsOf(good));
    const { tensors } = readSafetensors(weightsOf(good));
    const inputs = (dtype?: 'F16', keep = (_key: string) => true): Record<string, SafetensorsInput> =>
      Object.fromEntries([...tensors].filter(([k]) => keep(k)).map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array, ...(dtype && { dtype }) }]));
    const variants: Record<string, (d: string) => void> = {
      'truncated weights': (d) => writeFileSync(weightsOf(d), bytes.subarray(0, bytes.byteLength - 7)),
      'bytes after the last tensor': (d) => writeFileSync(weightsOf(d), Buffer.concat([bytes, Buffer.alloc(4)])),
      'a header length past the end': (d) => writeFileSync(weightsOf(d), Buffer.concat([Buffer.from([255, 255, 255, 0, 0, 0, 0, 0]), bytes.subarray(8)])),
      'not safetensors at all': (d) => writeFileSync(weightsOf(d), 'hello'),
      'no weights file': (d) => unlinkSync(weightsOf(d)),
      'no config file': (d) => unlinkSync(path.join(d, ADAPTER_CONFIG_FILE)),
      'a config that is not JSON': (d) => writeFileSync(path.join(d, ADAPTER_CONFIG_FILE), '{ r: 4'),
      'a config whose rank disagrees': (d) => writeFileSync(path.join(d, ADAPTER_CONFIG_FILE), JSON.stringify({ peft_type: 'LORA', r: 3, lora_alpha: 8, target_modules: ['c_attn'] })),
      'a lora_A without its lora_B': (d) => writeSafetensors(weightsOf(d), inputs(undefined, (k) => !k.endsWith('h.1.attn.c_proj.lora_B.weight'))),
      'an unexpected tensor': (d) => writeSafetensors(weightsOf(d), { ...inputs(), 'transformer.wte.weight': { shape: [2, 2], data: new Float32Array(4) } }),
      'F16 weights (valid)': (d) => writeSafetensors(weightsOf(d), inputs('F16')),
    };
    const before = loader.stats();
    const results: Record<string, string> = {};
    for (const [i, [what, damage]] of Object.entries(variants).entries()) {
      const d = at(`bad${i}`);
      cpSync(good, d, { recursive: true });
      damage(d);
      const expected = await outcome(() => readHostAdapter(d));
      expect(await outcome(() => loader.read(d)), what).toBe(expected);
      if (expected === 'no error') expect(plain(await loader.read(d))).toEqual(plain(readHostAdapter(d)));
      results[what] = expected.split('\n')[0]!.replace(dir, '<dir>');
    }
    // The errors name the file (a corrupt weights file included) and say what is wrong.
    expect(results).toEqual({
      'truncated weights': expect.stringMatching(/^SafetensorsError: invalid safetensors file <dir>\/bad0\/adapter_model\.safetensors: tensor .* past the end/),
      'bytes after the last tensor': expect.stringMatching(/^SafetensorsError: invalid safetensors file <dir>\/bad1\/adapter_model\.safetensors: the data section has 4 bytes after the last tensor/),
      'a header length past the end': expect.stringMatching(/^SafetensorsError: invalid safetensors file <dir>\/bad2\/adapter_model\.safetensors: header length 16777215 is larger than the file/),
      'not safetensors at all': 'SafetensorsError: invalid safetensors file <dir>/bad3/adapter_model.safetensors: truncated: 5 bytes, fewer than the 8-byte header length',
      'no weights file': 'LoraError: no adapter_model.safetensors in <dir>/bad4',
      'no config file': 'LoraError: no adapter_config.json in <dir>/bad5',
      'a config that is not JSON': 'LoraError: <dir>/bad6/adapter_config.json is not valid JSON',
      'a config whose rank disagrees': 'LoraError: <dir>/bad7/adapter_model.safetensors: h.0.attn.c_attn has rank 4/4, adapter_config.json says r = 3',
      'a lora_A without its lora_B': 'LoraError: <dir>/bad8/adapter_model.safetensors: module h.1.attn.c_proj has lora_A but not lora_B',
      'an unexpected tensor': 'LoraError: <dir>/bad9/adapter_model.safetensors: unexpected tensor transformer.wte.weight',
      'F16 weights (valid)': 'no error',
    });
    // Only the config error was found in the worker's answer; every other variant went to the main thread (F16 twice).
    expect(loader.stats().onMainThread - before.onMainThread).toBe(Object.keys(variants).length);
  });

  it('serves an engine: adapters prefetched through the worker give the same tokens as readHostAdapter, and an unknown one is a 404', async () => {
    const model = tinyModel(2);
    const tokenizer = fakeTokenizer();
    const known = new Set(['a0', 'a1', 'a2']);
    const serve = async (read: (d: string) => Promise<HostAdapter>) => {
      const cache = createAdapterCache({
        load: async (name) => {
          if (!known.has(name)) throw new UnknownAdapterError(name);
          return read(at(name));
        },
        model: TINY,
        hostBudgetBytes: 1e9,
        deviceBudgetBytes: 1e9,
      });
      const engine = createEngine({ model, tokenizer, adapters: cache, maxBatch: 4 });
      const runs = ['a0', 'a1', 'a2', 'a1', 'a0', 'a2'].map((adapter, i) => engine.submit({ adapter, prompt: [1 + i, 2, 3], maxTokens: 5, temperature: 0, seed: i }).done);
      const tokens = (await Promise.all(runs)).map((r) => r.tokens);
      const unknown = await outcome(() => engine.submit({ adapter: 'nope', prompt: [1], maxTokens: 2, temperature: 0, seed: 0 }).done);
      await engine.close();
      cache.dispose();
      return { tokens, unknown };
    };
    const before = loader.stats();
    const viaWorker = await serve((d) => loader.read(d));
    expect(loader.stats().inWorker - before.inWorker).toBe(3);
    expect(viaWorker).toEqual(await serve(async (d) => readHostAdapter(d)));
    expect(viaWorker.unknown).toMatch(/^UnknownAdapterError: no adapter named "nope"/);
    disposeModel(model);
  });

  it('with no workers, reads on the main thread', async () => {
    const inline = createAdapterLoader({ workers: 0 });
    expect(plain(await inline.read(at('a2')))).toEqual(plain(readHostAdapter(at('a2'))));
    expect(inline.stats()).toEqual({ workers: 0, inWorker: 0, onMainThread: 1, pending: 0 });
    await inline.close();
    expect(() => createAdapterLoader({ workers: 1.5 })).toThrow(/workers must be a non-negative integer, got 1.5/);
  });

  it.runIf(process.platform === 'linux')('runs its worker below the engine thread\'s priority (nice 10 by default), and checks the setting', async () => {
    // Threads of this process at a given niceness (field 19 of /proc/<pid>/task/<tid>/stat; the fields after the name).
    const threadsAt = (nice: number) =>
      readdirSync('/proc/self/task').filter((tid) => {
        const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return Number(fields[16]) === nice;
      }).length;
    const before = threadsAt(7);
    const l = createAdapterLoader({ nice: 7 });
    await l.read(at('a0'));
    expect(threadsAt(7)).toBe(before + 1);
    await l.close();
    expect(() => createAdapterLoader({ nice: 20 })).toThrow(/nice must be an integer from 0 to 19, got 20/);
  });

  it('close() ends its worker, and reads after it reject', async () => {
    const l = createAdapterLoader();
    await l.read(at('a0'));
    expect(l.stats().workers).toBe(1);
    await l.close();
    expect(l.stats().workers).toBe(0);
    expect(await outcome(() => l.read(at('a0')))).toBe(`LoraError: the adapter loader is closed: cannot read ${at('a0')}`);
  });

  it('an open loader never keeps a process alive, a read in flight does; under `--import tsx` and with tsx registered from code (bin/tributary.mjs)', async () => {
    const loaderUrl = pathToFileURL(path.resolve('serving/adapterLoader.ts')).href;
    const read = `const l = createAdapterLoader(); const h = await l.read(${JSON.stringify(at('a2'))}); console.log('read', h.modules.size, JSON.stringify(l.stats()));`;
    // No close(): the process must still exit once the read is answered.
    const viaImport = await runNode(['--import', 'tsx', '--input-type=module', '-e', `import { createAdapterLoader } from ${JSON.stringify(loaderUrl)}; ${read}`]);
    const viaRegister = await runNode(['--input-type=module', '-e', `import { register } from 'tsx/esm/api'; register(); const { createAdapterLoader } = await import(${JSON.stringify(loaderUrl)}); ${read}`]);
    for (const r of [viaImport, viaRegister]) {
      expect(r.out).toContain('read 8 {"workers":1,"inWorker":1,"onMainThread":0,"pending":0}');
      expect(r.code).toBe(0);
    }
    const unused = await runNode(['--import', 'tsx', '--input-type=module', '-e', `import { createAdapterLoader } from ${JSON.stringify(loaderUrl)}; createAdapterLoader({ workers: 2 }); console.log('made')`]);
    expect(unused).toEqual({ code: 0, out: 'made\n' });
  });
});
