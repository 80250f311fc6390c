import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startProfiler, summarizeProfile } from './profile.ts';

const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });

describe('summarizeProfile()', () => {
  it('charges each sample to its area and to the innermost named serving function, skipping the matmul wrapper', () => {
    const S = 'file:///x/serving/';
    // root → step → decode → forward → linear → (matmul wrapper) → wasm kernel
    //                        forward → (anonymous tidy callback) → tfjs op
    //              decode → appendPresent → gc
    // (idle) under root
    const nodes = [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 9] },
      { id: 2, callFrame: frame('step', `${S}engine/engine.ts`), children: [3] },
      { id: 3, callFrame: frame('decode', `${S}engine/engine.ts`), children: [4, 8] },
      { id: 4, callFrame: frame('forward', `${S}gpt2.ts`), children: [5, 10] },
      { id: 5, callFrame: frame('linear', `${S}gpt2.ts`), children: [6] },
      { id: 6, callFrame: frame('kernelFunc', `${S}wasmMatMul.ts`), children: [7] },
      { id: 7, callFrame: frame('wasm-function[42]', 'wasm://wasm/abc'), children: [] },
      { id: 8, callFrame: frame('appendPresent', `${S}kvCache.ts`), children: [11] },
      { id: 9, callFrame: frame('(idle)', ''), children: [] },
      { id: 10, callFrame: frame('', `${S}gpt2.ts`), children: [12] },
      { id: 11, callFrame: frame('(garbage collector)', ''), children: [] },
      { id: 12, callFrame: frame('runKernel', 'file:///x/node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js'), children: [] },
    ];
    // A sample weighs the next one's delta: 7 → 300 µs, 12 → 200, 11 → 100, and the last its own, 9 → 100.
    const p = summarizeProfile({ nodes, samples: [7, 12, 11, 9], timeDeltas: [0, 300, 200, 100] });
    expect(p.sampledMs).toBeCloseTo(0.7, 10);
    const share = (x: number) => +(x / 700).toFixed(6);
    const round = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, +v.toFixed(6)]));
    expect(round(p.areas)).toEqual({ wasm: share(300), 'tfjs-js': share(200), 'serving-js': 0, 'bench-js': 0, gc: share(100), idle: share(100), other: 0 });
    expect(round(p.phases)).toEqual({ decode: share(600), prefill: 0, pass: 0, matmul: share(300) });
    expect(p.functions.map((f) => [f.name, +f.share.toFixed(6)])).toEqual([
      ['gpt2.ts:linear', share(300)],
      ['gpt2.ts:forward', share(200)],
      ['kvCache.ts:appendPresent', share(100)],
      ['(outside serving)', share(100)],
    ]);
  });

  it('counts the engine\'s ragged passes as their own phase', () => {
    const S = 'file:///x/serving/';
    const nodes = [
      { id: 1, callFrame: frame('(root)', ''), children: [2] },
      { id: 2, callFrame: frame('pass', `${S}engine/engine.ts`), children: [3] },
      { id: 3, callFrame: frame('raggedForward', `${S}raggedForward.ts`), children: [] },
    ];
    const p = summarizeProfile({ nodes, samples: [3, 2], timeDeltas: [0, 300] });
    expect(p.phases).toEqual({ decode: 0, prefill: 0, pass: 1, matmul: 0 });
    expect(p.functions.map((f) => f.name)).toEqual(['raggedForward.ts:raggedForward', 'engine.ts:pass']);
  });

  it('samples this process, and writes the raw profile when asked (what --profile-dir keeps)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tributary-profile-'));
    try {
      const profiler = await startProfiler();
      const until = Date.now() + 30;
      let x = 0;
      while (Date.now() < until) x += Math.sqrt(x + 1);
      const file = path.join(dir, 'run.cpuprofile');
      const summary = await profiler.stop(file);
      expect(summary.sampledMs).toBeGreaterThan(10);
      const raw = JSON.parse(readFileSync(file, 'utf8')) as { nodes: unknown[]; samples: number[] };
      expect(raw.nodes.length).toBeGreaterThan(0);
      expect(raw.samples.length).toBeGreaterThan(0);
      expect(x).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
