import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHostAdapter, writeAdapter } from '../adapterFiles.ts';
import { useTensorBackend } from '../backend.ts';
import { createAdapterCache } from '../engine/adapterCache.ts';
import { createEngine, type Engine } from '../engine/engine.ts';
import { UnknownAdapterError } from '../engine/errors.ts';
import { initModel } from '../gpt2.ts';
import { createLora, disposeLora } from '../lora.ts';
import type { Gpt2Config } from '../modelConfig.ts';
import { buildTrimmedVocab, trimmedTokenizer } from '../tokenizer.ts';
import { createModelCatalog, type ModelCatalog } from './catalog.ts';
import { openaiRoutes, type InferenceRecord } from './openaiRoutes.ts';

const KEY = 'trb_test-payer-key';
const OPERATOR_KEY = 'trb_test-operator-key';
const PAYER = '0x00000000000000000000000000000000000000aa' as const;

describe('OpenAI-compatible routes, through the official openai client', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tributary-openai-'));
  let server: Server;
  let engine: Engine;
  let client: OpenAI;
  let catalog: ModelCatalog;
  let baseURL: string;
  const records: InferenceRecord[] = [];

  beforeAll(async () => {
    await useTensorBackend('wasm');
    const tokenizer = trimmedTokenizer(buildTrimmedVocab(['Question: what do mangroves need?\nAnswer: salty water and mud.'], 300));
    const config: Gpt2Config = { vocabSize: tokenizer.vocabSize, nPositions: 64, nEmbd: 16, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };
    const model = initModel(config, 1);
    const lora = createLora(config, { r: 4, alpha: 8, targets: ['c_attn'], seed: 3, randomB: 0.5 });
    await writeAdapter(path.join(dir, 'coastal'), lora);
    disposeLora(lora);
    catalog = createModelCatalog({
      file: path.join(dir, 'catalog.json'),
      initial: [
        { id: 'tiny-base', ownedBy: 'tributary', created: 1 },
        { id: 'coastal', adapterPath: path.join(dir, 'coastal'), modelId: '1', version: 1, ownedBy: 'tributary', created: 2 },
      ],
    });
    const adapters = createAdapterCache({
      model: config,
      hostBudgetBytes: 1 << 20,
      deviceBudgetBytes: 1 << 20,
      load: async (name) => {
        const m = catalog.get(name);
        if (!m?.adapterPath) throw new UnknownAdapterError(name);
        return readHostAdapter(m.adapterPath);
      },
    });
    engine = createEngine({ model, tokenizer, adapters, maxBatch: 4, maxQueue: 2 });
    const route = openaiRoutes({
      engine,
      tokenizer,
      modelConfig: config,
      catalog,
      authenticate: async (h) => (h === `Bearer ${KEY}` ? { payer: PAYER, role: 'payer', keyId: 'k1' } : h === `Bearer ${OPERATOR_KEY}` ? { payer: null, role: 'operator', keyId: 'k2' } : null),
      onInference: (r) => {
        records.push(r);
      },
      evictAdapter: (name) => adapters.evict(name),
    });
    server = createServer((req, res) => {
      void route(req, res, new URL(req.url ?? '/', 'http://x').pathname).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    client = new OpenAI({ baseURL, apiKey: KEY, maxRetries: 0 });
  });

  afterAll(async () => {
    await engine.close();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the served models', async () => {
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual(['coastal', 'tiny-base']);
    expect((await client.models.retrieve('coastal')).owned_by).toBe('tributary');
  });

  it('completes a prompt, and the same seed gives the same text; the bill names payer and tokens', async () => {
    const ask = () => client.completions.create({ model: 'coastal', prompt: 'Question: what do mangroves need?\nAnswer:', max_tokens: 8, temperature: 0.8, seed: 7 });
    const a = await ask();
    const b = await ask();
    expect(a.object).toBe('text_completion');
    expect(a.choices[0]!.text).toBe(b.choices[0]!.text);
    expect(a.usage!.completion_tokens).toBeGreaterThan(0);
    expect(a.usage!.total_tokens).toBe(a.usage!.prompt_tokens + a.usage!.completion_tokens);
    const rec = records.at(-1)!;
    expect(rec).toMatchObject({ payer: PAYER, tokensIn: a.usage!.prompt_tokens, tokensOut: a.usage!.completion_tokens, output: a.choices[0]!.text });
    expect(rec.model.modelId).toBe('1');
    expect(rec.requestId).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('streams chat completions over SSE, and the streamed text equals the non-streamed one', async () => {
    const params = { model: 'coastal', messages: [{ role: 'user' as const, content: 'what do mangroves need?' }], max_tokens: 10, temperature: 0 };
    const whole = await client.chat.completions.create(params);
    expect(whole.choices[0]!.message.role).toBe('assistant');
    const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(finish).toBe(whole.choices[0]!.finish_reason);
    expect(usage?.completion_tokens).toBe(whole.usage!.completion_tokens);
  });

  it('answers 404 for an unknown model, 400 with the reason for a malformed body, 401 without a key', async () => {
    await expect(client.completions.create({ model: 'nope', prompt: 'x' })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    await expect(client.completions.create({ model: 'coastal', prompt: 'x', n: 2 })).rejects.toMatchObject({ status: 400, param: 'n' });
    await expect(client.completions.create({ model: 'coastal', prompt: 'x', max_tokens: 1000 })).rejects.toMatchObject({ status: 400, code: 'context_length_exceeded' });
    await expect(client.chat.completions.create({ model: 'coastal', messages: [], max_tokens: 2 })).rejects.toMatchObject({ status: 400, param: 'messages' });
    await expect(client.chat.completions.create({ model: 'coastal', messages: [{ role: 'user', content: 'hi' }], tools: [] })).rejects.toMatchObject({ status: 400 });
    const raw = await fetch(`${baseURL}/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: '{"model":' });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { message: string } }).error.message).toMatch(/not valid JSON/);
    await expect(new OpenAI({ baseURL, apiKey: 'wrong', maxRetries: 0 }).models.list()).rejects.toMatchObject({ status: 401 });
  });

  it('answers 429 with Retry-After when the queue is full', async () => {
    const long = { model: 'tiny-base', prompt: 'Question:', max_tokens: 40, temperature: 0 };
    const inflight = Array.from({ length: 12 }, () => client.completions.create(long).then(() => 'ok', (e: { status?: number; headers?: Headers }) => e));
    const outcomes = await Promise.all(inflight);
    const refused = outcomes.filter((o) => o !== 'ok') as { status?: number; headers?: Headers }[];
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.status).toBe(429);
    expect(Number(refused[0]!.headers!.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('a client that disconnects mid-stream frees its slot, and is billed for what was computed', async () => {
    const before = engine.metrics().requests.finished.cancelled;
    const stream = await client.completions.create({ model: 'coastal', prompt: 'Question:', max_tokens: 40, temperature: 0, stream: true });
    let n = 0;
    for await (const _ of stream) {
      if (++n === 2) {
        stream.controller.abort();
        break;
      }
    }
    for (let i = 0; i < 100 && engine.metrics().requests.finished.cancelled === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(engine.metrics().requests.finished.cancelled).toBe(before + 1);
    expect(engine.metrics().running).toBe(0);
    expect(records.at(-1)!.finishReason).toBe('cancelled');
  });

  it('operators load and unload adapters; payers may not', async () => {
    const operator = new OpenAI({ baseURL, apiKey: OPERATOR_KEY, maxRetries: 0 });
    const post = (key: string, body: unknown) => fetch(`${baseURL}/adapters`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
    expect((await post(KEY, { name: 'copy', path: path.join(dir, 'coastal') })).status).toBe(403);
    const bad = await post(OPERATOR_KEY, { name: 'copy', path: path.join(dir, 'missing') });
    expect(bad.status).toBe(400);
    const ok = await post(OPERATOR_KEY, { name: 'copy', path: path.join(dir, 'coastal') });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { adapter_hash: string }).adapter_hash).toMatch(/^0x[0-9a-f]{64}$/);
    const viaCopy = await operator.completions.create({ model: 'copy', prompt: 'Question:', max_tokens: 5, temperature: 0 });
    const viaOriginal = await operator.completions.create({ model: 'coastal', prompt: 'Question:', max_tokens: 5, temperature: 0 });
    expect(viaCopy.choices[0]!.text).toBe(viaOriginal.choices[0]!.text);
    expect(createModelCatalog({ file: path.join(dir, 'catalog.json') }).get('copy')).toBeDefined(); // persisted
    const del = await fetch(`${baseURL}/adapters/copy`, { method: 'DELETE', headers: { authorization: `Bearer ${OPERATOR_KEY}` } });
    expect(del.status).toBe(200);
    await expect(operator.completions.create({ model: 'copy', prompt: 'x' })).rejects.toMatchObject({ status: 404 });
  });
});
