// Measures per-example LoRA gradients per second, batched (perExampleGradients) against one backward pass
// per example (perExampleGradientsLoop), on the same model, adapter and examples, and checks they agree.
// Run: npx tsx serving/train/measurePerExampleGradients.ts [backend] (default wasm)
import { useTensorBackend, type TensorBackend } from '../backend.ts';
import { disposeModel } from '../gpt2.ts';
import { createLora, disposeLora } from '../lora.ts';
import type { Gpt2Config } from '../modelConfig.ts';
import { tf } from '../tf.ts';
import type { TokenExample } from './format.ts';
import { perExampleGradients, perExampleGradientsLoop } from './perExampleGradients.ts';
import { seededRandom } from './shuffle.ts';
import { tinyModel } from './tinyModel.ts';

async function main(): Promise<void> {
  const backend = (process.argv[2] ?? 'wasm') as TensorBackend;
  await useTensorBackend(backend);
  const config: Gpt2Config = { vocabSize: 64, nPositions: 64, nEmbd: 64, nLayer: 2, nHead: 4, layerNormEpsilon: 1e-5 };
  const model = tinyModel(config, 1);
  const adapter = createLora(config, { r: 4, alpha: 8, targets: ['c_attn'], seed: 2, randomB: 0.05 });
  const N = 64;
  console.log(`backend ${tf.getBackend()}; model d=64, 2 layers, 4 heads, rank-4 LoRA on c_attn (${2 * 4 * (64 + 192)} parameters); ${N} examples`);
  for (const length of [64, 16]) {
    const rand = seededRandom(3);
    // The loss on the second half of the predictions (an answer after a prompt).
    const pairs: TokenExample[] = Array.from({ length: N }, () => ({
      tokens: Array.from({ length }, () => Math.floor(rand() * config.vocabSize)),
      lossMask: Array.from({ length: length - 1 }, (_, i) => (i >= length / 2 - 1 ? 1 : 0)),
    }));
    const time = (f: () => void, reps: number) => {
      f(); // warm-up (kernels, memory)
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) f();
      return (performance.now() - t0) / reps / 1000;
    };
    const out: Record<string, number> = { loop: N / time(() => perExampleGradientsLoop({ model, adapter, pairs }), 1) };
    for (const batchSize of [8, 16, 32, 64]) out[`batched ${batchSize}`] = N / time(() => perExampleGradients({ model, adapter, pairs, batchSize }), 2);
    const fast = perExampleGradients({ model, adapter, pairs, batchSize: 16 });
    const slow = perExampleGradientsLoop({ model, adapter, pairs });
    let worst = 0;
    for (const [name, g] of fast.modules) {
      for (const k of ['dA', 'dB'] as const) {
        const a = g[k];
        const b = slow.modules.get(name)![k];
        let d = 0;
        let n = 0;
        for (let i = 0; i < a.length; i++) {
          d += (a[i]! - b[i]!) ** 2;
          n += b[i]! ** 2;
        }
        worst = Math.max(worst, Math.sqrt(d / n));
      }
    }
    console.log(`${length}-token examples:`);
    for (const [k, v] of Object.entries(out)) console.log(`  ${k.padEnd(12)} ${v.toFixed(1).padStart(7)} per-example gradients/s  (${(1000 / v).toFixed(2)} ms each, ${(v / out.loop!).toFixed(2)}× the loop)`);
    console.log(`  largest relative difference, batched vs loop: ${worst.toExponential(2)}`);
  }
  disposeLora(adapter);
  disposeModel(model);
}

await main();
