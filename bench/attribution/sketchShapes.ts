// The sketch shapes the attribution benchmarks score with, computed the way a training run's sketches
// are (attribution's sketchSpec, TRAINING_SKETCH_WIDTH per module side) for a rank-8 LoRA on c_attn:
// on the shipped base model (serving/models/tributary-tiny: 3 layers, so k = 3 · 8 · (32 + 32) = 1536)
// and on GPT-2 small's shape (12 layers: k = 6144), the larger sketch a bigger base model gives.
import { sketchSpec, TRAINING_SKETCH_SEED, TRAINING_SKETCH_WIDTH, type SketchSpec } from '../../attribution/index.ts';
import { createLora, disposeLora, GPT2_SMALL, readModelConfig, type Gpt2Config } from '../../serving/index.ts';

export const BASE_MODEL_DIR = 'serving/models/tributary-tiny';
export const BENCH_LORA = { r: 8, alpha: 16, targets: ['c_attn'] } as const;

export interface SketchShape {
  /** What the shape is of, for the tables. */
  label: string;
  spec: SketchSpec;
}

/** The sketch spec of a rank-8 c_attn adapter on a model of this shape. */
export function loraSketchSpec(config: Gpt2Config): SketchSpec {
  const lora = createLora(config, { ...BENCH_LORA, targets: [...BENCH_LORA.targets], seed: 1 });
  try {
    return sketchSpec(lora, { seed: TRAINING_SKETCH_SEED, width: TRAINING_SKETCH_WIDTH });
  } finally {
    disposeLora(lora);
  }
}

export function tinySketchShape(modelDir = BASE_MODEL_DIR): SketchShape {
  return { label: 'tributary-tiny, r 8 c_attn', spec: loraSketchSpec(readModelConfig(modelDir)) };
}

export function gpt2SmallSketchShape(): SketchShape {
  return { label: 'GPT-2 small shape, r 8 c_attn', spec: loraSketchSpec(GPT2_SMALL) };
}
