// OpenAI-compatible routes on the platform's HTTP server: GET /v1/models, POST /v1/completions and
// POST /v1/chat/completions (JSON, or SSE with `stream: true`), and the operator's adapter routes
// POST /v1/adapters and DELETE /v1/adapters/{name}. `model` names a served model: the base model or an
// adapter on it. Official OpenAI clients work unchanged (test/openai-client.test.ts uses the `openai` package).
//
// Every request needs `Authorization: Bearer <API key>`; the key's payer is who pays for the inference.
// When a request ends (finished or cut off by the client) `onInference` gets what the log and the bill
// need. A client that disconnects aborts its request, which frees its batch slot at the next step.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hex } from 'viem';
import { readAdapterConfig, adapterHash } from '../adapterFiles.ts';
import type { Engine, GenerateResult } from '../engine/engine.ts';
import type { Gpt2Config } from '../modelConfig.ts';
import { targetedModules } from '../lora.ts';
import type { Tokenizer } from '../tokenizer.ts';
import { CHAT_STOPS, renderChat } from './chatTemplate.ts';
import { adapterKeyOf, type ModelCatalog, type ServedModel } from './catalog.ts';
import { badRequest, HttpError, sendError, toHttpError } from './errors.ts';
import { readJsonBody } from './jsonBody.ts';
import { chatBody, completionBody, parseBody, type ChatBody, type CompletionBody } from './requests.ts';

/** Who is calling, from their API key. */
export interface Caller {
  payer: Hex | null;
  role: string;
  keyId: string;
}

/** One finished (or cancelled) inference, for the log and the bill. */
export interface InferenceRecord {
  /** bytes32, 0x-hex: the id the log, the bill and InferenceRouter share. */
  requestId: Hex;
  model: ServedModel;
  payer: Hex | null;
  keyId: string;
  prompt: string;
  output: string;
  tokensIn: number;
  tokensOut: number;
  latencyMs: number;
  firstTokenMs: number | null;
  finishReason: GenerateResult['finishReason'];
  createdAt: Date;
}

export interface OpenAiRoutesOptions {
  engine: Engine;
  tokenizer: Tokenizer;
  /** The base model's shape: adapters loaded through the API are checked against it. */
  modelConfig: Gpt2Config;
  catalog: ModelCatalog;
  /** The caller of a request from its Authorization header, or null to refuse with 401. */
  authenticate(authorization: string | undefined): Promise<Caller | null>;
  onInference?(record: InferenceRecord): Promise<void> | void;
  /** Drops an adapter's cached copies (called on DELETE). */
  evictAdapter?(name: string): void;
  /** Largest request body (default 1 MiB). */
  maxBodyBytes?: number;
  onError?(e: unknown): void;
}

const COMPLETION_DEFAULT_MAX_TOKENS = 16;

export function openaiRoutes(opts: OpenAiRoutesOptions) {
  const maxBody = opts.maxBodyBytes ?? 1 << 20;

  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    if (!path.startsWith('/v1/')) return false;
    try {
      const caller = await opts.authenticate(req.headers.authorization);
      if (!caller) throw new HttpError(401, 'Incorrect API key provided: send Authorization: Bearer <key> (tributary keys create)', 'invalid_request_error', null, 'invalid_api_key');
      if (path === '/v1/models') {
        allow(req, 'GET');
        const data = opts.catalog.list().map((m) => ({ id: m.id, object: 'model', created: m.created, owned_by: m.ownedBy }));
        return json(res, 200, { object: 'list', data });
      }
      const modelPath = /^\/v1\/models\/([^/]+)$/.exec(path);
      if (modelPath) {
        allow(req, 'GET');
        const m = opts.catalog.get(decodeURIComponent(modelPath[1]!));
        if (!m) throw new HttpError(404, `The model '${decodeURIComponent(modelPath[1]!)}' does not exist`, 'invalid_request_error', 'model', 'model_not_found');
        return json(res, 200, { id: m.id, object: 'model', created: m.created, owned_by: m.ownedBy });
      }
      if (path === '/v1/completions') {
        allow(req, 'POST');
        const body = parseBody(completionBody, await readJson(req, maxBody));
        await generate(req, res, caller, 'completion', body);
        return true;
      }
      if (path === '/v1/chat/completions') {
        allow(req, 'POST');
        const body = parseBody(chatBody, await readJson(req, maxBody));
        await generate(req, res, caller, 'chat', body);
        return true;
      }
      if (path === '/v1/adapters' || path.startsWith('/v1/adapters/')) {
        if (caller.role !== 'operator') throw new HttpError(403, 'loading and unloading adapters needs an operator key', 'permission_error');
        if (path === '/v1/adapters') {
          allow(req, 'POST');
          return json(res, 201, loadAdapter((await readJson(req, maxBody)) as Record<string, unknown>));
        }
        allow(req, 'DELETE');
        const name = decodeURIComponent(path.slice('/v1/adapters/'.length));
        const m = opts.catalog.get(name);
        if (m?.published) throw new HttpError(409, `'${name}' is published on-chain: it is served while its model is active`, 'invalid_request_error', 'model');
        if (!m?.adapterPath) throw new HttpError(404, `no adapter named '${name}' is loaded`, 'invalid_request_error', 'model', 'model_not_found');
        opts.catalog.remove(name);
        opts.evictAdapter?.(name);
        return json(res, 200, { id: name, object: 'model', deleted: true });
      }
      throw new HttpError(404, `no route ${req.method} ${path}`, 'invalid_request_error');
    } catch (e) {
      const h = toHttpError(e);
      if (h.status >= 500) opts.onError?.(e);
      sendError(res, h);
      return true;
    }
  };

  function loadAdapter(raw: Record<string, unknown>) {
    const name = raw.name;
    const dir = raw.path;
    if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/.test(name)) throw badRequest('name: 1–100 letters, digits, . _ : - (starting with a letter or digit)', 'name');
    if (typeof dir !== 'string' || dir === '') throw badRequest('path: the adapter directory on the server (adapter_config.json + adapter_model.safetensors)', 'path');
    let hash: Hex;
    try {
      const config = readAdapterConfig(dir);
      targetedModules(opts.modelConfig, config.target_modules);
      hash = adapterHash(dir);
    } catch (e) {
      throw badRequest(`path: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, 'path');
    }
    if (opts.catalog.get(name)?.published) throw new HttpError(409, `'${name}' is a published model's name; choose another`, 'invalid_request_error', 'name');
    const modelId = typeof raw.model_id === 'string' || typeof raw.model_id === 'number' ? String(raw.model_id) : undefined;
    const served: ServedModel = { id: name, adapterPath: dir, adapterHash: hash, modelId, version: typeof raw.version === 'number' ? raw.version : undefined, ownedBy: typeof raw.owned_by === 'string' ? raw.owned_by : 'tributary', created: Math.floor(Date.now() / 1000) };
    opts.evictAdapter?.(name); // a reload of the same name must not serve the old weights
    opts.catalog.put(served);
    return { id: name, object: 'model', created: served.created, owned_by: served.ownedBy, adapter_hash: hash };
  }

  async function generate(req: IncomingMessage, res: ServerResponse, caller: Caller, kind: 'completion' | 'chat', body: CompletionBody | ChatBody): Promise<void> {
    const model = opts.catalog.get(body.model);
    if (!model) throw new HttpError(404, `The model '${body.model}' does not exist`, 'invalid_request_error', 'model', 'model_not_found');
    let promptText: string;
    let prompt: number[];
    if (kind === 'chat') {
      const messages = (body as ChatBody).messages.map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('') }));
      promptText = renderChat(messages);
      prompt = opts.tokenizer.encode(promptText);
    } else {
      const p = (body as CompletionBody).prompt;
      if (typeof p === 'string' || typeof p[0] === 'string') {
        promptText = typeof p === 'string' ? p : (p[0] as string);
        prompt = opts.tokenizer.encode(promptText);
      } else {
        prompt = p as number[];
        const bad = prompt.find((t) => t >= opts.tokenizer.vocabSize);
        if (bad !== undefined) throw badRequest(`prompt: token ${bad} is outside the vocabulary (${opts.tokenizer.vocabSize} tokens)`, 'prompt');
        promptText = opts.tokenizer.decode(prompt);
      }
    }
    if (prompt.length === 0) throw badRequest('prompt: empty', 'prompt');
    const stops = body.stop == null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
    const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? (kind === 'completion' ? COMPLETION_DEFAULT_MAX_TOKENS : undefined);
    const abort = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) abort.abort();
    };
    res.on('close', onClose);
    const started = Date.now();
    const handle = opts.engine.submit({
      adapter: adapterKeyOf(model),
      prompt,
      maxTokens,
      temperature: body.temperature ?? 1,
      topP: body.top_p ?? 1,
      stop: kind === 'chat' ? [...stops, ...CHAT_STOPS] : stops,
      seed: body.seed ?? undefined,
      signal: abort.signal,
    });
    const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomBytes(12).toString('hex')}`;
    const requestId = `0x${randomBytes(32).toString('hex')}` as Hex;
    const created = Math.floor(started / 1000);
    const usage = (r: GenerateResult) => ({ prompt_tokens: r.tokensIn, completion_tokens: r.tokensOut, total_tokens: r.tokensIn + r.tokensOut });
    const finish = (r: GenerateResult) => (r.finishReason === 'length' ? 'length' : 'stop');
    let result: GenerateResult;
    try {
      if (body.stream) {
        // Headers go out only once the engine has accepted the request, so refusals are plain HTTP errors.
        const events = handle.events[Symbol.asyncIterator]();
        const first = await events.next();
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': requestId });
        const send = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
        const chunk = (delta: string | null, finishReason: string | null, extra: object = {}) =>
          kind === 'chat'
            ? { id, object: 'chat.completion.chunk', created, model: model.id, choices: [{ index: 0, delta: delta === null ? {} : { content: delta }, finish_reason: finishReason }], ...extra }
            : { id, object: 'text_completion', created, model: model.id, choices: [{ index: 0, text: delta ?? '', logprobs: null, finish_reason: finishReason }], ...extra };
        if (kind === 'chat') send({ id, object: 'chat.completion.chunk', created, model: model.id, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
        for (let it = first; !it.done; it = await events.next()) if (it.value.text) send(chunk(it.value.text, null));
        result = await handle.done;
        if (result.finishReason !== 'cancelled') {
          send(chunk(null, finish(result)));
          if (body.stream_options?.include_usage) send({ ...chunk(null, null), choices: [], usage: usage(result) });
          res.end('data: [DONE]\n\n');
        }
      } else {
        result = await handle.done;
        if (result.finishReason !== 'cancelled') {
          const choice =
            kind === 'chat'
              ? { index: 0, message: { role: 'assistant', content: result.text, refusal: null }, logprobs: null, finish_reason: finish(result) }
              : { index: 0, text: result.text, logprobs: null, finish_reason: finish(result) };
          res.setHeader('x-request-id', requestId);
          json(res, 200, { id, object: kind === 'chat' ? 'chat.completion' : 'text_completion', created, model: model.id, choices: [choice], usage: usage(result) });
        }
      }
    } finally {
      res.off('close', onClose);
    }
    if (result.tokensIn > 0) {
      // Billed by what was computed, cancelled requests included.
      await opts.onInference?.({
        requestId,
        model,
        payer: caller.payer,
        keyId: caller.keyId,
        prompt: promptText,
        output: result.text,
        tokensIn: result.tokensIn,
        tokensOut: result.tokensOut,
        latencyMs: result.totalMs,
        firstTokenMs: result.firstTokenMs,
        finishReason: result.finishReason,
        createdAt: new Date(started),
      });
    }
  }
}

function allow(req: IncomingMessage, method: string): void {
  if (req.method !== method) throw new HttpError(405, `use ${method} here`, 'invalid_request_error', null, null, { allow: method });
}

function json(res: ServerResponse, status: number, body: unknown): true {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
  return true;
}

async function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  const body = await readJsonBody(req, max);
  if (!body.ok) throw body.status === 413 ? new HttpError(413, body.error, 'invalid_request_error') : badRequest(body.error);
  return body.value;
}
