// Waits until the chain RPC answers, with exponential backoff and a log line per failed attempt that
// names the URL; then checks that it is the deployment's chain.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Deployment } from '../contracts/index.ts';
import { IndexerError, RpcUnreachableError, WrongChainError } from './errors.ts';
import type { IndexerLogger } from './log.ts';
import type { ChainRpc } from './rpc.ts';

export interface RetryPolicy {
  /** Attempts before giving up with RpcUnreachableError (default: unlimited, with a warning per attempt). */
  maxAttempts?: number;
  /** Delay after the first failure (default 500 ms); doubles per attempt. */
  initialDelayMs?: number;
  /** Longest delay (default 30 s). */
  maxDelayMs?: number;
}

export interface ReachChainOptions extends RetryPolicy {
  deployment: Pick<Deployment, 'chainId' | 'deploymentBlock'>;
  log: IndexerLogger;
  signal?: AbortSignal;
}

/** Resolves once `rpc` answers and is the deployment's chain; rejects after `maxAttempts` failures. */
export async function reachChain(rpc: ChainRpc, opts: ReachChainOptions): Promise<void> {
  const max = opts.maxAttempts ?? Infinity;
  const initial = opts.initialDelayMs ?? 500;
  const maxDelay = opts.maxDelayMs ?? 30_000;
  let chainId: number | undefined;
  for (let attempt = 1; chainId === undefined; attempt++) {
    try {
      chainId = await rpc.chainId();
    } catch (err) {
      const reason = err instanceof IndexerError ? (err.details ?? err.message) : String(err);
      if (err instanceof IndexerError && !err.retryable) throw err;
      if (attempt >= max) {
        throw new RpcUnreachableError(`the chain RPC at ${rpc.url} is unreachable: gave up after ${attempt} attempts`, {
          details: `${reason}; check RPC_URL, or start the chain`,
          retryable: true,
          cause: err,
        });
      }
      const delay = Math.min(initial * 2 ** (attempt - 1), maxDelay);
      opts.log.warn(`the chain RPC at ${rpc.url} is unreachable; retrying in ${delay} ms`, {
        attempt,
        maxAttempts: Number.isFinite(max) ? max : 'unlimited',
        reason,
      });
      try {
        await sleep(delay, undefined, { signal: opts.signal });
      } catch {
        return; // aborted: the indexer is stopping
      }
    }
  }
  const d = opts.deployment;
  if (chainId !== d.chainId) {
    throw new WrongChainError(`the chain RPC at ${rpc.url} serves chain ${chainId}, the deployment is on chain ${d.chainId}`, {
      details: 'point RPC_URL at the deployment’s chain, or deploy again',
    });
  }
  const hash = await rpc.blockHash(Number(d.deploymentBlock.number));
  if (hash !== d.deploymentBlock.hash) {
    throw new WrongChainError(
      `the chain at ${rpc.url} does not have the deployment block ${d.deploymentBlock.number} (${d.deploymentBlock.hash})`,
      { details: `${hash ? `its block ${d.deploymentBlock.number} is ${hash}` : 'the chain is not that high'}: it is another chain, or was reset; deploy again` },
    );
  }
}
