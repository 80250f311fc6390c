// The span benchmark's corpus and outputs. The corpus is the base model's generated English
// (serving/corpus), one document per row as a {text} row trains (its GPT-2 tokens, then end-of-text),
// rows grouped into contributions. Outputs are 32–64 GPT-2 tokens of three kinds: a window copied from an
// indexed row with about one token in 12 replaced (spans of a few to a few dozen tokens), a window of a
// document of the same grammar that is not indexed (shared phrases only), and uniformly random ids.
import type { Address } from 'viem';
import { generateCorpus, gpt2Tokenizer, type Tokenizer } from '../../serving/index.ts';
import type { SpanRow } from '../../attribution/index.ts';

export const OUTPUT_KINDS = ['copied', 'fresh', 'random'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

export interface SpanWorkload {
  rows: SpanRow[];
  tokens: number;
  /** Documents generated (indexed and not). */
  documents: number;
  outputs: { kind: OutputKind; tokens: number[] }[];
}

/** mulberry32: one seeded stream for every choice. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const ROWS_PER_CONTRIBUTION = 120;
const CONTRIBUTORS = 20;
const FRESH_DOCUMENTS = 400;

/** Rows of at least `tokens` tokens in all (whole documents), and `outputs` outputs cycling through the kinds. */
export function makeSpanWorkload(p: { tokens: number; outputs: number; seed: number; tokenizer?: Tokenizer }): SpanWorkload {
  const tokenizer = p.tokenizer ?? gpt2Tokenizer();
  const random = seededRandom(p.seed);
  const int = (n: number) => Math.floor(random() * n);
  // ~81 GPT-2 tokens per document: generate enough in batches until the corpus is big enough.
  const rows: SpanRow[] = [];
  let tokens = 0;
  let documents = 0;
  let fresh: number[][] = [];
  while (fresh.length === 0) {
    const want = documents + Math.ceil((p.tokens - tokens) / 70) + FRESH_DOCUMENTS;
    const texts = generateCorpus({ seed: p.seed, documents: want }).slice(documents);
    for (const text of texts) {
      const ids = [...tokenizer.encode(text), tokenizer.eosToken];
      documents++;
      if (tokens >= p.tokens) {
        fresh.push(ids);
        continue;
      }
      const contribution = Math.floor(rows.length / ROWS_PER_CONTRIBUTION);
      rows.push({
        contributionId: BigInt(contribution + 1),
        rowIndex: rows.length % ROWS_PER_CONTRIBUTION,
        contributor: `0x${(0xc0 + (contribution % CONTRIBUTORS)).toString(16).padStart(40, '0')}` as Address,
        owned: true,
        tokens: ids,
      });
      tokens += ids.length;
    }
  }
  fresh = fresh.filter((ids) => ids.length >= 64);

  const window = (ids: readonly number[], length: number) => {
    const from = int(Math.max(1, ids.length - length + 1));
    return ids.slice(from, from + length);
  };
  const outputs: SpanWorkload['outputs'] = [];
  for (let i = 0; i < p.outputs; i++) {
    const kind = OUTPUT_KINDS[i % OUTPUT_KINDS.length]!;
    const length = 32 + int(33);
    let out: number[];
    if (kind === 'copied') {
      // Rows run 20–200 tokens; join a row with the next one when it is short, as a model output may.
      const r = int(rows.length);
      const joined = [...(rows[r]!.tokens as number[]), ...(rows[(r + 1) % rows.length]!.tokens as number[])];
      out = window(joined, length).map((t) => (random() < 1 / 12 ? int(50_000) : t));
    } else if (kind === 'fresh') {
      out = window(fresh[int(fresh.length)]!, length);
    } else {
      out = Array.from({ length }, () => int(50_000));
    }
    outputs.push({ kind, tokens: out });
  }
  return { rows, tokens, documents, outputs };
}
