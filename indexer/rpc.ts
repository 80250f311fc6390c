// A minimal JSON-RPC client for the indexer's own calls (reachability, chain id, block hashes for
// reorg checks). Subsquid has its own client for ingestion; these calls stay few and small.
import { IndexerError } from './errors.ts';

export interface ChainRpc {
  /** The endpoint, without credentials: for logs and errors. */
  url: string;
  call<T>(method: string, params: readonly unknown[]): Promise<T>;
  chainId(): Promise<number>;
  headHeight(): Promise<number>;
  /** The hash of the canonical block at `height`, or undefined when the chain is not that high. */
  blockHash(height: number): Promise<string | undefined>;
}

export interface ChainRpcOptions {
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
}

let nextId = 1;

export function createChainRpc(url: string, opts: ChainRpcOptions = {}): ChainRpc {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const shown = redact(url);
  const call = async <T>(method: string, params: readonly unknown[]): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new IndexerError(`the chain RPC at ${shown} did not answer ${method}`, {
        details: describeFetchError(err),
        retryable: true,
        cause: err,
      });
    }
    if (!res.ok) {
      // 429 and 5xx are the server's trouble, not the request's.
      const retryable = res.status === 429 || res.status >= 500;
      throw new IndexerError(`the chain RPC at ${shown} answered ${method} with HTTP ${res.status}`, {
        details: (await res.text().catch(() => '')).slice(0, 200),
        retryable,
      });
    }
    const body = (await res.json()) as { result?: T; error?: { code: number; message: string } };
    if (body.error) {
      throw new IndexerError(`the chain RPC at ${shown} refused ${method}`, { details: `${body.error.code}: ${body.error.message}` });
    }
    return body.result as T;
  };
  return {
    url: shown,
    call,
    async chainId() {
      return Number(await call<string>('eth_chainId', []));
    },
    async headHeight() {
      return Number(await call<string>('eth_blockNumber', []));
    },
    async blockHash(height) {
      const block = await call<{ hash: string } | null>('eth_getBlockByNumber', [`0x${height.toString(16)}`, false]);
      return block?.hash ?? undefined;
    },
  };
}

/** `connect ECONNREFUSED 127.0.0.1:9` rather than fetch's bare "fetch failed". */
export function describeFetchError(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timed out';
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (cause?.message) return cause.message;
  if (cause?.code) return cause.code;
  return err instanceof Error ? err.message : String(err);
}

/** The URL without a password, for logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
