// The epoch benchmark's workload: a training run's rows and an epoch's inferences, from the base model's
// generated English (serving/corpus). One document per training row, tokenized with the base model's own
// vocabulary as a {text} row trains (its tokens, then end-of-text); rows grouped into contributions, two
// contributions per account, and one row in 100 a copy owned by an earlier contribution (it is searched
// but earns nothing). Inferences are (prompt, output) texts of realistic length: a prompt of 16–48 tokens
// and an output of 32–64, half continuing a training row with about one token in 12 changed (a model
// that reproduces what it read, with small changes), half continuing a document it never trained on.
import type { Address, Hex } from 'viem';
import type { AttributionQuery, SpanRow } from '../../attribution/index.ts';
import { generateCorpus, type Tokenizer } from '../../serving/index.ts';

export type { RowOwner } from '../../attribution/index.ts';
import type { RowOwner } from '../../attribution/index.ts';

export interface EpochWorkload {
  /** The training examples, in sketch order: row i is example i. */
  rows: SpanRow[];
  owners: RowOwner[];
  queries: AttributionQuery[];
  contributions: number;
  accounts: number;
  /** Tokens in the rows (what the span index holds). */
  tokens: number;
}

export interface EpochWorkloadOptions {
  examples: number;
  inferences: number;
  tokenizer: Tokenizer;
  seed: number;
  /** Training rows per contribution (default 100). */
  rowsPerContribution?: number;
}

/** mulberry32 over [0, 1). */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const MIN_DOCUMENT_TOKENS = 24;
const LONG_DOCUMENT_TOKENS = 64;

export function makeEpochWorkload(p: EpochWorkloadOptions): EpochWorkload {
  const { tokenizer } = p;
  const perContribution = p.rowsPerContribution ?? 100;
  const random = seededRandom(p.seed);
  const int = (n: number) => Math.floor(random() * n);
  const fresh = Math.max(1, Math.ceil(p.inferences / 2));
  // A few documents are too short to train on or to continue: draw more than needed.
  const texts = generateCorpus({ seed: p.seed, documents: Math.ceil((p.examples + fresh) * 1.1) + 100 });
  const docs = texts.map((t) => tokenizer.encode(t)).filter((ids) => ids.length >= MIN_DOCUMENT_TOKENS);
  if (docs.length < p.examples + fresh) throw new RangeError(`the corpus gave ${docs.length} usable documents, ${p.examples + fresh} needed`);

  const account = (a: number) => `0x${(0xa11ce000 + a).toString(16).padStart(40, '0')}` as Address;
  const rows: SpanRow[] = [];
  const owners: RowOwner[] = [];
  let tokens = 0;
  for (let i = 0; i < p.examples; i++) {
    const c = Math.floor(i / perContribution);
    // One row in 100 is a copy of an earlier row: indexed, but owned by the contribution that had it first.
    const copyOf = i >= perContribution && i % 100 === 99 ? int(i - (i % perContribution)) : -1;
    const ids = [...(copyOf >= 0 ? (rows[copyOf]!.tokens as number[]).slice(0, -1) : docs[i]!), tokenizer.eosToken];
    const owner: RowOwner = { contributionId: BigInt(c + 1), account: account(Math.floor(c / 2)), owned: copyOf < 0 };
    rows.push({ contributionId: owner.contributionId, rowIndex: i % perContribution, contributor: owner.account, owned: owner.owned, tokens: ids });
    owners.push(owner);
    tokens += ids.length;
  }
  const contributions = Math.ceil(p.examples / perContribution);

  const queries: AttributionQuery[] = [];
  for (let q = 0; q < p.inferences; q++) {
    const copied = q % 2 === 0;
    // A document long enough for a prompt and a whole output, in a few draws (most are: ~80 tokens on average).
    let doc: number[] = [];
    for (let tries = 0; tries < 8 && doc.length < LONG_DOCUMENT_TOKENS; tries++) doc = copied ? docs[int(p.examples)]! : docs[p.examples + int(fresh)]!;
    const promptLength = Math.max(1, Math.min(16 + int(33), doc.length - 32));
    const outputLength = 32 + int(33);
    const prompt = doc.slice(0, promptLength);
    let output = doc.slice(promptLength, promptLength + outputLength);
    const stop = promptLength + outputLength >= doc.length; // the document ended: the model stopped itself
    if (copied) output = output.map((t) => (random() < 1 / 12 ? int(tokenizer.eosToken) : t));
    queries.push({
      requestId: `0x${(q + 1).toString(16).padStart(64, '0')}` as Hex,
      prompt: tokenizer.decode(prompt),
      output: tokenizer.decode(output),
      finishReason: stop ? 'stop' : 'length',
    });
  }
  return { rows, owners, queries, contributions, accounts: Math.ceil(contributions / 2), tokens };
}
