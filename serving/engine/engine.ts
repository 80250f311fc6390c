// The inference engine: continuous batching over one base model and many LoRA adapters.
//
// A loop runs scheduler steps (`step`, below) one after another, yielding to the event loop between
// them so that an HTTP server in the same process keeps answering. At every step finished and cancelled
// sequences leave, queued requests join (their prompts run once, giving each its first token), and every
// running sequence advances by one token.
//
// Two ways to schedule:
// - 'mixed' (OpenLoRA): every running sequence decodes in the same step whatever its adapter; the base
//   matmuls run once for the whole batch and each row adds its own LoRA term (loraStack.ts: the segmented
//   LoRA kernel, one op per module reading each row's adapter in place, where the backend has it; else
//   the batch's adapters stacked along the rank and masked per row, the stack kept across steps).
// - 'per-adapter' (the benchmark's baseline): each adapter is merged into a copy of the base weights, and
//   a step serves one adapter's sequences only, taking the adapters in turn (round-robin).
//
// The sequences that decode together (all of them in mixed scheduling, one adapter's in per-adapter) share
// one batched KV cache (kvCache.ts), in the order they joined, right-aligned. Where the backend has the
// ragged attention kernel (raggedAttention.ts: wasm), a step is one pass (raggedForward.ts) over the
// running sequences' next tokens and the new sequences' whole prompts, unpadded, which also writes the new
// cache. Elsewhere it is two passes of gpt2.ts's forward: a decode pass whose keys extend the cache with
// no extra op, and a prefill pass over the new prompts, left-padded so that their keys join it right-aligned.
//
// Admission is first come, first served within three limits: `maxBatch` running sequences; the KV byte
// budget, reserved at admission for the prompt plus `maxTokens` (so a running sequence never runs out of
// cache); and adapter residency: a request whose adapter is still coming from disk is passed over (its
// load is already under way) so it does not hold up the requests behind it.
import { forward, outputProjection, type Gpt2Model, type LinearHook } from '../gpt2.ts';
import { createKvBatch, kvBytesPerPosition, type KvBatch } from '../kvCache.ts';
import type { LoraAdapter } from '../lora.ts';
import { createLoraStack } from '../loraStack.ts';
import { hasRaggedAttention } from '../raggedAttention.ts';
import { raggedForward } from '../raggedForward.ts';
import { tf, type Tensor3D } from '../tf.ts';
import type { StreamDecoder, Tokenizer } from '../tokenizer.ts';
import { modelBytes, type AdapterCache } from './adapterCache.ts';
import { createChannel, type Channel } from './channel.ts';
import { EngineClosedError, EngineConfigError, InvalidRequestError, PromptTooLongError, QueueFullError } from './errors.ts';
import { checkSampling, createRng, createStopMatcher, sampleToken, type SamplingParams, type StopMatcher } from './sampling.ts';

export type Scheduling = 'mixed' | 'per-adapter';

export interface EngineOptions {
  model: Gpt2Model;
  tokenizer: Tokenizer;
  adapters: AdapterCache;
  /** Most sequences running at once. Default 32. */
  maxBatch?: number;
  /** Most requests waiting; beyond it submit throws QueueFullError. Default 256. */
  maxQueue?: number;
  /** Bytes of KV cache that running sequences may reserve together. Default: maxBatch full-length sequences. */
  kvBudgetBytes?: number;
  /** Most new tokens per request (larger asks are lowered to it). Default: the model's positions. */
  maxNewTokens?: number;
  /** Default 'mixed'. */
  scheduling?: Scheduling;
}

export interface GenerateRequest {
  /** The adapter to apply, or null for the base model alone. */
  adapter: string | null;
  prompt: readonly number[];
  /** Default: as many as fit in the model's positions, up to maxNewTokens. */
  maxTokens?: number;
  /** Default 1; 0 is greedy. */
  temperature?: number;
  /** Default 1 (off). */
  topP?: number;
  /** Default 0 (off). */
  topK?: number;
  /** Generation ends before the first of these appears in the text; it is not returned. */
  stop?: readonly string[];
  /** Same seed, same prompt, same adapter → same tokens. Default: a random seed. */
  seed?: number;
  /** Aborting (a client that disconnects) ends the request at the next step and frees its slot. */
  signal?: AbortSignal;
}

export interface TokenEvent {
  token: number;
  /** The text this token completed, that may be shown now (may be empty: a split character, or the start of a stop sequence). */
  text: string;
}

export type FinishReason = 'stop' | 'length' | 'cancelled';

export interface GenerateResult {
  /** Prompt tokens run through the model (0 when cancelled before it started). */
  tokensIn: number;
  /** Tokens generated, an end-of-text token included. */
  tokensOut: number;
  tokens: number[];
  finishReason: FinishReason;
  text: string;
  /** From submit to the first token; null when there was none. */
  firstTokenMs: number | null;
  totalMs: number;
}

export interface GenerateHandle {
  id: number;
  /** The tokens as they come; ends when the request does, and throws if it fails. One reader. */
  events: AsyncIterable<TokenEvent>;
  /** Resolves when the request ends (cancelled included); rejects if it failed (unknown adapter, engine closed). */
  done: Promise<GenerateResult>;
}

export interface EngineMetrics {
  scheduling: Scheduling;
  /** Scheduler steps that ran the model (a decode pass, a prefill pass, or both). */
  steps: number;
  decodeSteps: number;
  prefills: number;
  promptTokens: number;
  generatedTokens: number;
  /** Base-model matmuls over all passes (4 per layer per pass: they do not depend on the adapters in the batch). */
  baseMatmuls: number;
  /** The last decode pass: its rows, its distinct adapters and its base matmuls. */
  lastDecode: { rows: number; adapters: number; baseMatmuls: number };
  /** Mean rows per decode pass. */
  meanDecodeBatch: number;
  running: number;
  queued: number;
  maxBatch: number;
  maxQueue: number;
  /** running / maxBatch, now. */
  batchOccupancy: number;
  kvReservedBytes: number;
  kvUsedBytes: number;
  kvBudgetBytes: number;
  /** Generated tokens per second over the last 30 s. */
  tokensPerSecond: number;
  requests: { submitted: number; rejected: number; failed: number; finished: Record<FinishReason, number> };
}

export interface Engine {
  readonly scheduling: Scheduling;
  /** Queues a request; throws QueueFullError, PromptTooLongError, InvalidRequestError or EngineClosedError at once. */
  submit(request: GenerateRequest): GenerateHandle;
  metrics(): EngineMetrics;
  /** Stops the loop after the current step; requests still queued or running fail with EngineClosedError. */
  close(): Promise<void>;
}

/** A request from submit until it ends. */
interface Pending {
  id: number;
  adapter: string | null;
  prompt: number[];
  maxTokens: number;
  sampling: SamplingParams;
  stops: readonly string[];
  seed: number;
  signal: AbortSignal | undefined;
  kvBytes: number;
  submittedAt: number;
  events: Channel<TokenEvent>;
  resolve(r: GenerateResult): void;
  reject(e: unknown): void;
  detach(): void;
}

/** What a running sequence computes with: the model (base or merged) and, in mixed scheduling, its adapter. */
interface Weights {
  model: Gpt2Model;
  lora: LoraAdapter | null;
  release(): void;
}

/** A request that has been admitted: it holds a KV reservation and a pin on its weights. */
interface Sequence {
  req: Pending;
  weights: Weights;
  /** Positions in its KV cache (the cache is its batch's, see `batches`). */
  kvLength: number;
  tokens: number[];
  lastToken: number;
  rng: () => number;
  decoder: StreamDecoder;
  stopper: StopMatcher;
  text: string;
  firstTokenAt: number | null;
  finish: FinishReason | null;
}

const EVERYONE = Symbol('every adapter');
type Turn = string | null | typeof EVERYONE;
const WINDOW_MS = 30_000;

export function createEngine(opts: EngineOptions): Engine {
  const { model, tokenizer, adapters } = opts;
  const cfg = model.config;
  const scheduling = opts.scheduling ?? 'mixed';
  const maxBatch = opts.maxBatch ?? 32;
  const maxQueue = opts.maxQueue ?? 256;
  const maxNewTokens = opts.maxNewTokens ?? cfg.nPositions;
  const bytesPerPosition = kvBytesPerPosition(cfg.nLayer, cfg.nEmbd);
  const kvBudget = opts.kvBudgetBytes ?? maxBatch * cfg.nPositions * bytesPerPosition;
  const vocab = tokenizer.vocabSize;
  for (const [k, v] of [['maxBatch', maxBatch], ['maxQueue', maxQueue], ['maxNewTokens', maxNewTokens]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new EngineConfigError(`${k} must be a positive integer, got ${v}`);
  }
  if (!(kvBudget > 0)) throw new EngineConfigError(`kvBudgetBytes must be positive, got ${kvBudget}`);
  if (scheduling !== 'mixed' && scheduling !== 'per-adapter') throw new EngineConfigError(`scheduling must be 'mixed' or 'per-adapter', got ${JSON.stringify(scheduling)}`);
  if (vocab > cfg.vocabSize) throw new EngineConfigError(`the tokenizer has ${vocab} tokens, the model only ${cfg.vocabSize}`);
  if (scheduling === 'per-adapter' && adapters.deviceBudgetBytes < modelBytes(model)) {
    throw new EngineConfigError(`per-adapter scheduling keeps merged models on device: the device budget (${adapters.deviceBudgetBytes} bytes) is smaller than one model (${modelBytes(model)} bytes)`);
  }

  const queue: Pending[] = [];
  const running: Sequence[] = [];
  let kvReserved = 0;
  let nextId = 1;
  let closed = false;
  const startedAt = performance.now();
  const prefetching = new Set<string>();
  // The KV cache of each group of sequences that decode together: everyone (mixed), or one adapter's.
  const batches = new Map<Turn, KvBatch<Sequence>>();
  const groupOf = (s: Sequence): Turn => (scheduling === 'mixed' ? EVERYONE : s.req.adapter);
  const loraStack = createLoraStack();
  // wteᵀ once for every pass. Merged models (per-adapter) share it: LoRA never targets the embedding.
  const projection = outputProjection(model);
  // One ragged pass a step where the backend has the kernel, else a decode pass and a prefill pass.
  const ragged = hasRaggedAttention();
  // per-adapter: the adapters in the order they take turns, and the last one served.
  let turnOrder: (string | null)[] = [];
  let lastTurn: string | null | undefined;
  const recent: { at: number; tokens: number; completions: number }[] = [];
  const m = {
    steps: 0,
    decodeSteps: 0,
    prefills: 0,
    promptTokens: 0,
    generatedTokens: 0,
    baseMatmuls: 0,
    decodeRows: 0,
    lastDecode: { rows: 0, adapters: 0, baseMatmuls: 0 },
    requests: { submitted: 0, rejected: 0, failed: 0, finished: { stop: 0, length: 0, cancelled: 0 } as Record<FinishReason, number> },
  };

  // The loop sleeps when there is nothing it can do, until a submit, an abort, a finished adapter load or close wakes it.
  let wakeUp: (() => void) | null = null;
  let woken = false;
  const wake = () => {
    woken = true;
    wakeUp?.();
  };
  const sleep = () =>
    woken
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          wakeUp = resolve;
        });

  /**
   * One scheduler step, top to bottom:
   * 1. cancelled requests leave (their slot, KV reservation and adapter pin are freed);
   * 2. the adapters of the requests next in line start loading;
   * 3. choose whom this step serves: everyone (mixed), or one adapter's sequences (per-adapter, in turn);
   * 4. admit queued requests while there is a free slot, KV budget for them, and their adapter is on device;
   * 5. one decode pass for the sequences already running, one prefill pass for those just admitted;
   * 6. finished sequences leave.
   * Answers whether the model ran.
   */
  async function step(): Promise<boolean> {
    reapCancelled();
    prefetchQueued();
    const turns: Turn[] = scheduling === 'mixed' ? [EVERYONE] : adapterTurns();
    for (const turn of turns) {
      let kv = batches.get(turn);
      const decoding = kv ? [...kv.rows] : []; // the turn's running sequences, in the cache's order
      const joining = admit(turn);
      if (decoding.length === 0 && joining.length === 0) continue;
      if (turn !== EVERYONE) lastTurn = turn;
      running.push(...joining);
      if (!kv) batches.set(turn, (kv = createKvBatch<Sequence>()));
      if (ragged) await pass(decoding, joining, kv);
      else {
        if (decoding.length > 0) await decode(decoding, kv);
        if (joining.length > 0) await prefill(joining, kv);
      }
      const finished = running.filter((s) => s.finish !== null);
      leave(finished);
      for (const s of finished) settleSequence(s, s.finish!);
      m.steps += 1;
      return true;
    }
    return false;
  }

  function reapCancelled(): void {
    const cancelled = running.filter((s) => s.req.signal?.aborted);
    leave(cancelled);
    for (const s of cancelled) settleSequence(s, 'cancelled');
    for (const r of queue.filter((r) => r.signal?.aborted)) {
      queue.splice(queue.indexOf(r), 1);
      settle(r, { tokensIn: 0, tokensOut: 0, tokens: [], finishReason: 'cancelled', text: '', firstTokenMs: null, totalMs: performance.now() - r.submittedAt });
    }
  }

  /** Loads adapters for the next maxBatch queued requests (look-ahead, bounded so loads do not evict each other). */
  function prefetchQueued(): void {
    for (const r of queue.slice(0, maxBatch)) if (r.adapter !== null) startPrefetch(r.adapter);
  }

  function startPrefetch(name: string): void {
    if (prefetching.has(name) || adapters.residency(name) !== 'disk') return;
    prefetching.add(name);
    adapters
      .prefetch(name, { toDevice: scheduling === 'mixed' })
      .catch((error: unknown) => {
        // An unknown adapter (or a bad file) fails every request waiting for it.
        for (const r of queue.filter((r) => r.adapter === name)) {
          queue.splice(queue.indexOf(r), 1);
          fail(r, error);
        }
      })
      .finally(() => {
        prefetching.delete(name);
        wake();
      });
  }

  /** per-adapter: the adapters with running or queued requests, starting after the one served last. */
  function adapterTurns(): Turn[] {
    const present = new Set<string | null>([...running.map((s) => s.req.adapter), ...queue.map((r) => r.adapter)]);
    for (const a of present) if (!turnOrder.includes(a)) turnOrder.push(a);
    turnOrder = turnOrder.filter((a) => present.has(a) || a === lastTurn);
    const at = lastTurn === undefined ? -1 : turnOrder.indexOf(lastTurn);
    return [...turnOrder.slice(at + 1), ...turnOrder.slice(0, at + 1)].filter((a) => present.has(a));
  }

  function admit(turn: Turn): Sequence[] {
    const joining: Sequence[] = [];
    for (const r of [...queue]) {
      if (running.length + joining.length >= maxBatch) break;
      if (turn !== EVERYONE && r.adapter !== turn) continue;
      // Still coming from disk: pass it over, its load is under way.
      if (r.adapter !== null && (adapters.residency(r.adapter) === 'disk' || adapters.residency(r.adapter) === 'loading')) continue;
      // First come, first served on memory: later requests do not overtake one that waits for KV room.
      if (kvReserved + r.kvBytes > kvBudget) break;
      const weights = acquireWeights(r.adapter);
      if (!weights) continue; // the device is full of adapters pinned by running sequences
      queue.splice(queue.indexOf(r), 1);
      kvReserved += r.kvBytes;
      joining.push({
        req: r,
        weights,
        kvLength: 0,
        tokens: [],
        lastToken: -1,
        rng: createRng(r.seed),
        decoder: tokenizer.createDecoder(),
        stopper: createStopMatcher(r.stops),
        text: '',
        firstTokenAt: null,
        finish: null,
      });
    }
    return joining;
  }

  function acquireWeights(adapter: string | null): Weights | null {
    if (adapter === null) return { model, lora: null, release: () => {} };
    if (scheduling === 'mixed') {
      const lora = adapters.acquire(adapter);
      return lora && { model, lora, release: () => adapters.release(adapter) };
    }
    const merged = adapters.acquireMerged(adapter, model);
    return merged && { model: merged, lora: null, release: () => adapters.releaseMerged(adapter) };
  }

  /**
   * One ragged pass: every sequence of the cache (`decoding`, in its order) advances by one token, and the
   * new sequences' prompts run, unpadded; each gets its next token, and the cache becomes the pass's.
   */
  async function pass(decoding: Sequence[], joining: Sequence[], kv: KvBatch<Sequence>): Promise<void> {
    const seqs = [...decoding, ...joining];
    const past = kv.held();
    const lengths = kv.lengths;
    const segments = seqs.map((s, i) => (i < decoding.length ? { tokens: [s.lastToken], past: lengths[i]!, row: past!.slots[i]! } : { tokens: s.req.prompt, past: 0 }));
    const hook = loraHook(seqs, segments.map((g) => g.tokens.length), true);
    const stats = { baseMatmuls: 0 };
    let out: ReturnType<typeof raggedForward>;
    try {
      out = raggedForward(seqs[0]!.weights.model, segments, { ...(past && { cache: { k: past.k, v: past.v } }), hook, stats, outputProjection: projection });
    } finally {
      hook?.dispose();
    }
    kv.reset(seqs, out.cache, segments.map((g) => g.past + g.tokens.length));
    if (decoding.length > 0) {
      m.decodeSteps += 1;
      m.decodeRows += decoding.length;
      m.lastDecode = { rows: decoding.length, adapters: new Set(decoding.map((s) => s.weights.lora).filter((l) => l !== null)).size, baseMatmuls: stats.baseMatmuls };
    }
    if (joining.length > 0) {
      m.prefills += 1;
      m.promptTokens += joining.reduce((n, s) => n + s.req.prompt.length, 0);
    }
    await finishPass(seqs, out.logits, stats, segments.map((g) => g.tokens.length));
  }

  /** Every sequence of the cache (`seqs`, in its order) advances by one token. */
  async function decode(seqs: Sequence[], kv: KvBatch<Sequence>): Promise<void> {
    const hook = loraHook(seqs, seqs.map(() => 1), true);
    const stats = { baseMatmuls: 0 };
    let out: ReturnType<typeof forward>;
    try {
      out = forward(seqs[0]!.weights.model, seqs.map((s) => [s.lastToken]), { past: kv.past(), hook, stats, extend: true, outputProjection: projection });
    } finally {
      hook?.dispose();
    }
    kv.advance(out.extended!, 1);
    await finishPass(seqs, out.logits, stats, seqs.map(() => 1));
    m.decodeSteps += 1;
    m.decodeRows += seqs.length;
    m.lastDecode = { rows: seqs.length, adapters: new Set(seqs.map((s) => s.weights.lora).filter((l) => l !== null)).size, baseMatmuls: stats.baseMatmuls };
  }

  /**
   * The new sequences' prompts, left-padded to the longest, in one pass (so their keys join the cache
   * right-aligned); each gets its first token.
   */
  async function prefill(seqs: Sequence[], kv: KvBatch<Sequence>): Promise<void> {
    const T = Math.max(...seqs.map((s) => s.req.prompt.length));
    const lengths = seqs.map((s) => s.req.prompt.length);
    const leftPad = lengths.map((n) => T - n);
    const tokens = seqs.map((s, i) => [...new Array<number>(leftPad[i]!).fill(0), ...s.req.prompt]);
    const hook = loraHook(seqs, seqs.map(() => T), false);
    const stats = { baseMatmuls: 0 };
    let out: ReturnType<typeof forward>;
    try {
      out = forward(seqs[0]!.weights.model, tokens, { hook, stats, present: true, leftPad, logitsAt: seqs.map(() => T - 1), outputProjection: projection });
    } finally {
      hook?.dispose();
    }
    kv.join(seqs, out.present!, lengths);
    m.prefills += 1;
    m.promptTokens += lengths.reduce((a, b) => a + b, 0);
    await finishPass(seqs, out.logits, stats, lengths);
  }

  /** After a pass: counts its matmuls, extends each sequence's KV length by `counts`, and picks each one's next token. */
  async function finishPass(seqs: Sequence[], logits: Tensor3D, stats: { baseMatmuls: number }, counts: number[]): Promise<void> {
    m.baseMatmuls += stats.baseMatmuls;
    seqs.forEach((s, i) => (s.kvLength += counts[i]!));
    const next = await pickTokens(logits, seqs);
    seqs.forEach((s, i) => accept(s, next[i]!));
  }

  /**
   * The pass's LoRA in mixed scheduling (per-adapter's models have theirs merged): each row (counts[i] of
   * them for sequence i, in order) with its sequence's adapter; none when no row has an adapter. Where the
   * backend has the segmented LoRA kernel, loraStack.ts uses it and keeps no stack. Otherwise decode passes
   * (`keep`) use the engine's adapter stack, kept across steps, and a prefill stacks only its own sequences'
   * adapters, once: its B·T rows would pay for every column of the decode stack (whose width is that of all
   * the running adapters, and up to twice it), and the adapters it brings are appended to that stack at
   * the next decode pass anyway.
   */
  function loraHook(seqs: Sequence[], counts: number[], keep: boolean): (LinearHook & { dispose(): void }) | undefined {
    if (seqs.every((s) => s.weights.lora === null)) return undefined;
    const rows: (LoraAdapter | null)[] = [];
    seqs.forEach((s, i) => {
      for (let t = 0; t < counts[i]!; t++) rows.push(s.weights.lora);
    });
    if (keep) return loraStack.hook(rows);
    const once = createLoraStack();
    const hook = once.hook(rows);
    return {
      delta: (module, x) => hook.delta(module, x),
      dispose() {
        hook.dispose();
        once.dispose();
      },
    };
  }

  /** Each row's next token: argmax on device when every row is greedy, else sampled on the host. Disposes `logits`. */
  async function pickTokens(logits: Tensor3D, seqs: Sequence[]): Promise<number[]> {
    const B = seqs.length;
    const rows = tf.tidy(() => tf.slice(tf.reshape(logits, [B, cfg.vocabSize]), [0, 0], [B, vocab])); // (B, V), ids the tokenizer knows
    logits.dispose();
    try {
      if (seqs.every((s) => s.req.sampling.temperature === 0)) {
        const ids = tf.argMax(rows, 1);
        try {
          return Array.from(await ids.data());
        } finally {
          ids.dispose();
        }
      }
      const data = (await rows.data()) as Float32Array;
      return seqs.map((s, i) => sampleToken(data.subarray(i * vocab, (i + 1) * vocab), s.req.sampling, s.rng));
    } finally {
      rows.dispose();
    }
  }

  /** A new token: send its text, and decide whether the sequence is done. */
  function accept(s: Sequence, token: number): void {
    const now = performance.now();
    s.tokens.push(token);
    s.lastToken = token;
    s.firstTokenAt ??= now;
    m.generatedTokens += 1;
    recordRecent(now, 1, 0);
    const eos = token === tokenizer.eosToken;
    const last = eos || s.tokens.length >= s.req.maxTokens;
    let piece = eos ? '' : s.decoder.push(token);
    if (last) piece += s.decoder.flush();
    const { text, stopped } = s.stopper.push(piece);
    const shown = last && !stopped ? text + s.stopper.flush() : text;
    s.text += shown;
    s.req.events.push({ token, text: shown });
    if (eos || stopped) s.finish = 'stop';
    else if (last) s.finish = 'length';
  }

  /** A sequence that has left settles its request. */
  function settleSequence(s: Sequence, reason: FinishReason): void {
    settle(s.req, {
      tokensIn: s.req.prompt.length,
      tokensOut: s.tokens.length,
      tokens: s.tokens,
      finishReason: reason,
      text: s.text,
      firstTokenMs: s.firstTokenAt === null ? null : s.firstTokenAt - s.req.submittedAt,
      totalMs: performance.now() - s.req.submittedAt,
    });
  }

  /** Sequences leave: their rows of the KV caches, reservations and pins are freed. */
  function leave(seqs: readonly Sequence[]): void {
    if (seqs.length === 0) return;
    const gone = new Set(seqs);
    for (const group of new Set(seqs.map(groupOf))) {
      const kv = batches.get(group);
      if (!kv) continue;
      kv.drop(gone);
      if (kv.rows.length === 0) {
        kv.dispose();
        batches.delete(group);
      }
    }
    for (const s of seqs) {
      running.splice(running.indexOf(s), 1);
      s.weights.release();
      kvReserved -= s.req.kvBytes;
    }
  }

  /** Frees every KV cache (after a failed pass, whose caches may be half updated, and at close). */
  function dropCaches(): void {
    for (const kv of batches.values()) kv.dispose();
    batches.clear();
  }

  function settle(r: Pending, result: GenerateResult): void {
    m.requests.finished[result.finishReason] += 1;
    recordRecent(performance.now(), 0, 1);
    r.detach();
    r.events.end();
    r.resolve(result);
  }

  function fail(r: Pending, error: unknown): void {
    m.requests.failed += 1;
    r.detach();
    r.events.fail(error);
    r.reject(error);
  }

  function recordRecent(at: number, tokens: number, completions: number): void {
    const lastEntry = recent.at(-1);
    // One entry per 100 ms keeps the window small.
    if (lastEntry && at - lastEntry.at < 100) {
      lastEntry.tokens += tokens;
      lastEntry.completions += completions;
    } else recent.push({ at, tokens, completions });
    while (recent.length > 0 && recent[0]!.at < at - WINDOW_MS) recent.shift();
  }

  function windowSeconds(now: number): number {
    return Math.max(0.001, Math.min(WINDOW_MS, now - startedAt)) / 1000;
  }

  /** How long until a queue place is likely to free: the time per completed request lately, else the soonest running sequence's remaining tokens at the current pace. */
  function retryAfterSeconds(): number {
    const now = performance.now();
    recordRecent(now, 0, 0);
    const span = windowSeconds(now);
    const completions = recent.reduce((n, e) => n + e.completions, 0);
    const tokensPerSecond = recent.reduce((n, e) => n + e.tokens, 0) / span;
    let seconds = 1;
    if (completions > 0) seconds = span / completions;
    else if (running.length > 0 && tokensPerSecond > 0) {
      const perSequence = tokensPerSecond / running.length;
      seconds = Math.min(...running.map((s) => s.req.maxTokens - s.tokens.length)) / perSequence;
    }
    return Math.min(60, Math.max(1, Math.ceil(seconds)));
  }

  function submit(req: GenerateRequest): GenerateHandle {
    if (closed) throw new EngineClosedError();
    if (req.adapter !== null && (typeof req.adapter !== 'string' || req.adapter.length === 0)) {
      throw new InvalidRequestError(`adapter must be a non-empty name or null, got ${JSON.stringify(req.adapter)}`);
    }
    const prompt = [...req.prompt];
    if (prompt.length === 0) throw new InvalidRequestError('the prompt has no tokens');
    const badToken = prompt.find((t) => !Number.isInteger(t) || t < 0 || t >= vocab);
    if (badToken !== undefined) throw new InvalidRequestError(`token id ${badToken} is not in the vocabulary [0, ${vocab})`);
    if (req.maxTokens !== undefined && (!Number.isInteger(req.maxTokens) || req.maxTokens <= 0)) {
      throw new InvalidRequestError(`max_tokens must be a positive integer, got ${req.maxTokens}`);
    }
    const maxTokens = Math.min(req.maxTokens ?? cfg.nPositions - prompt.length, maxNewTokens);
    if (maxTokens <= 0 || prompt.length + maxTokens > cfg.nPositions) throw new PromptTooLongError(prompt.length, Math.max(1, maxTokens), cfg.nPositions);
    const sampling = checkSampling({ temperature: req.temperature ?? 1, topP: req.topP ?? 1, topK: req.topK ?? 0 });
    const stops = [...(req.stop ?? [])];
    createStopMatcher(stops); // checks them now, so a bad one is a 400 rather than a failed request
    if (req.seed !== undefined && !Number.isSafeInteger(req.seed)) throw new InvalidRequestError(`seed must be an integer, got ${req.seed}`);
    const seed = req.seed ?? Math.floor(Math.random() * 2 ** 32);
    const kvBytes = (prompt.length + maxTokens) * bytesPerPosition;
    if (kvBytes > kvBudget) {
      throw new InvalidRequestError(`a prompt of ${prompt.length} tokens plus ${maxTokens} new tokens needs ${kvBytes} bytes of KV cache, more than the engine's whole budget (${kvBudget})`, {
        details: `ask for at most ${Math.floor(kvBudget / bytesPerPosition) - prompt.length} tokens`,
      });
    }
    if (queue.length >= maxQueue) {
      m.requests.rejected += 1;
      throw new QueueFullError(queue.length, retryAfterSeconds());
    }

    let resolve!: (r: GenerateResult) => void;
    let reject!: (e: unknown) => void;
    const done = new Promise<GenerateResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A caller may only read `events`; a failure must then not surface as an unhandled rejection.
    done.catch(() => {});
    const signal = req.signal;
    const onAbort = () => wake();
    signal?.addEventListener('abort', onAbort, { once: true });
    const pending: Pending = {
      id: nextId++,
      adapter: req.adapter,
      prompt,
      maxTokens,
      sampling,
      stops,
      seed,
      signal,
      kvBytes,
      submittedAt: performance.now(),
      events: createChannel<TokenEvent>(),
      resolve,
      reject,
      detach: () => signal?.removeEventListener('abort', onAbort),
    };
    queue.push(pending);
    m.requests.submitted += 1;
    if (req.adapter !== null && queue.length <= maxBatch) startPrefetch(req.adapter);
    wake();
    return { id: pending.id, events: pending.events, done };
  }

  const loop = (async () => {
    while (!closed) {
      woken = false;
      let ran = false;
      try {
        ran = await step();
      } catch (error) {
        // A failed pass leaves the batch's caches in an unknown state: its sequences fail, the engine goes on.
        dropCaches();
        const failed = [...running];
        leave(failed);
        for (const s of failed) fail(s.req, error);
        ran = true;
      }
      if (ran) await new Promise<void>((resolve) => setImmediate(resolve));
      else await sleep();
    }
  })();

  return {
    scheduling,
    submit,
    metrics() {
      const now = performance.now();
      recordRecent(now, 0, 0);
      return {
        scheduling,
        steps: m.steps,
        decodeSteps: m.decodeSteps,
        prefills: m.prefills,
        promptTokens: m.promptTokens,
        generatedTokens: m.generatedTokens,
        baseMatmuls: m.baseMatmuls,
        lastDecode: { ...m.lastDecode },
        meanDecodeBatch: m.decodeSteps === 0 ? 0 : m.decodeRows / m.decodeSteps,
        running: running.length,
        queued: queue.length,
        maxBatch,
        maxQueue,
        batchOccupancy: running.length / maxBatch,
        kvReservedBytes: kvReserved,
        kvUsedBytes: running.reduce((n, s) => n + s.kvLength, 0) * bytesPerPosition,
        kvBudgetBytes: kvBudget,
        tokensPerSecond: recent.reduce((n, e) => n + e.tokens, 0) / windowSeconds(now),
        requests: { ...m.requests, finished: { ...m.requests.finished } },
      };
    },
    async close() {
      closed = true;
      wake();
      await loop;
      const error = new EngineClosedError();
      const stopped = [...running];
      leave(stopped);
      for (const s of stopped) fail(s.req, error);
      dropCaches();
      loraStack.dispose();
      projection.dispose();
      for (const r of queue.splice(0)) fail(r, error);
    },
  };
}
