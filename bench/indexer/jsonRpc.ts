// A bare JSON-RPC client over fetch for the benchmark's own calls (building the chain, the source-bound
// arm): no client library in the way, so what it measures is the RPC and JSON itself. Bodies are
// decoded as the indexer decodes them (ASCII when they are, which is much faster than UTF-8), so the
// source bound is not held back by a slower decoder than the indexer's.
import { isAscii } from 'node:buffer';

const decodeBody = (bytes: Buffer): string => (isAscii(bytes) ? bytes.toString('ascii') : bytes.toString('utf8'));

let nextId = 1;

export class JsonRpcError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'JsonRpcError';
  }
}

interface Reply<T> {
  id: number;
  result?: T;
  error?: { code: number; message: string };
}

async function post(url: string, body: unknown): Promise<Response> {
  // No timeout: a 60k-log eth_getLogs on a loaded machine can take many seconds.
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new JsonRpcError(`${url} answered HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
  return res;
}

/** One call; throws JsonRpcError with the server's message when it refuses. */
export async function rpc<T>(url: string, method: string, params: readonly unknown[] = []): Promise<T> {
  const reply = JSON.parse(decodeBody(Buffer.from(await (await post(url, { jsonrpc: '2.0', id: nextId++, method, params })).arrayBuffer()))) as Reply<T>;
  if (reply.error) throw new JsonRpcError(`${method} failed: ${reply.error.message}`, reply.error.code);
  return reply.result as T;
}

/** Several calls in one JSON-RPC batch; results in call order. Throws on the first refused call. */
export async function rpcBatch<T>(url: string, calls: readonly (readonly [method: string, params: readonly unknown[]])[]): Promise<T[]> {
  if (calls.length === 0) return [];
  const first = nextId;
  nextId += calls.length;
  const body = calls.map(([method, params], i) => ({ jsonrpc: '2.0', id: first + i, method, params }));
  const replies = JSON.parse(decodeBody(Buffer.from(await (await post(url, body)).arrayBuffer()))) as Reply<T>[];
  const byId = new Map(replies.map((r) => [r.id, r]));
  return calls.map(([method], i) => {
    const r = byId.get(first + i);
    if (!r) throw new JsonRpcError(`no reply to ${method} in a batch of ${calls.length}`);
    if (r.error) throw new JsonRpcError(`${method} failed: ${r.error.message}`, r.error.code);
    return r.result as T;
  });
}

export const toQuantity = (n: number | bigint): string => `0x${n.toString(16)}`;
