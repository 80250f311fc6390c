// A tiny random GPT-2 for tests and measurements of the training code. GPT-2's own initialisation
// (std 0.02) gives a d=32 model logits within about ±0.6, so a LoRA on that frozen base could never move
// the loss far, and a test could not tell training from noise. Larger random weights (embeddings std 0.5,
// projections 0.15 by default) give a base whose outputs LoRA can steer, like a trained model's.
import { initModel, type Gpt2Model } from '../gpt2.ts';
import type { Gpt2Config } from '../modelConfig.ts';
import { tf } from '../tf.ts';

export function tinyModel(config: Gpt2Config, seed: number, scale: { embeddings?: number; weights?: number } = {}): Gpt2Model {
  const model = initModel(config, seed);
  let s = seed * 1000;
  for (const [name, t] of model.params) {
    s += 1;
    if (name.includes('ln_') || name.endsWith('.bias')) continue;
    const std = name.startsWith('wte') || name.startsWith('wpe') ? (scale.embeddings ?? 0.5) : (scale.weights ?? 0.15);
    model.params.set(name, tf.randomNormal(t.shape, 0, std, 'float32', s));
    t.dispose();
  }
  return model;
}
