// GET /proofs/{address}: what an account can claim now, with the Merkle proof to claim it, and what a newer
// batch still in its dispute window will add (accountPayout: the chain and the stored batch files). As the
// GraphQL API writes them: amounts and epochs as decimal strings of wei, addresses and hashes lowercase 0x-hex,
// times ISO-8601 UTC. 400 for a malformed address (with the reason), 405 for a method other than GET, 503
// when the chain or the batch files cannot be read (the reason; `retryable` says whether retrying can help).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAddress, type Address } from 'viem';
import { TributaryError, type ChainContext } from '../../contracts/index.ts';
import { ContentStoreError, type ContentStore } from '../../schema/index.ts';
import { accountPayout, type AccountPayout } from '../payouts/accountPayout.ts';

export interface ProofsJson {
  account: string;
  /** Wei claimed so far (the chain's running total). */
  claimed: string;
  /** The account's leaf in the batch claims are checked against now; null when it has none (or none is claimable). */
  claimable: {
    epoch: string;
    root: string;
    /** Wei earned in total up to this batch: the leaf that claim(cumulative, proof) proves. */
    cumulative: string;
    /** Wei a claim pays now: cumulative − claimed, never negative. */
    amount: string;
    proof: string[];
    claimableAt: string;
  } | null;
  /** The account's leaf in a newer batch still in its dispute window (revocable); null when none. */
  pending: {
    epoch: string;
    root: string;
    cumulative: string;
    /** Wei it adds to what can be claimed once it opens. */
    amount: string;
    opensAt: string;
  } | null;
}

const iso = (unixSeconds: bigint) => new Date(Number(unixSeconds) * 1000).toISOString();
const max = (a: bigint, b: bigint) => (a > b ? a : b);

/** The JSON of an account's payouts (`tributary claim --json` prints the same). */
export function proofsJson(p: AccountPayout): ProofsJson {
  const claimableLeaf = p.claimable?.cumulative ?? 0n;
  return {
    account: p.account.toLowerCase(),
    claimed: p.claimed.toString(),
    claimable: p.claimable
      ? {
          epoch: p.claimable.epoch.toString(),
          root: p.claimable.root.toLowerCase(),
          cumulative: p.claimable.cumulative.toString(),
          amount: p.claimableNow.toString(),
          proof: p.claimable.proof.map((h) => h.toLowerCase()),
          claimableAt: iso(p.claimable.claimableAt),
        }
      : null,
    pending: p.pending
      ? {
          epoch: p.pending.epoch.toString(),
          root: p.pending.root.toLowerCase(),
          cumulative: p.pending.cumulative.toString(),
          amount: max(0n, p.pending.cumulative - max(p.claimed, claimableLeaf)).toString(),
          opensAt: iso(p.pending.claimableAt),
        }
      : null,
  };
}

export interface ProofsRouteContext {
  chain: ChainContext;
  /** The content store holding the posted batches' files (the attributor's). */
  content: ContentStore;
}

export interface ProofsRouteOptions {
  /** Told about reads that failed (answered 503), for the server log. */
  onError?: (e: unknown) => void;
}

const PREFIX = '/proofs/';

/** The route for the platform's HTTP server; answers false for paths that are not under /proofs. */
export function proofsRoute(ctx: ProofsRouteContext, opts: ProofsRouteOptions = {}) {
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    if (path !== '/proofs' && !path.startsWith(PREFIX)) return false;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 405 ? { allow: 'GET' } : {}) });
      res.end(JSON.stringify(body, null, 2));
      return true;
    };
    if (req.method !== 'GET') return send(405, { error: `use GET /proofs/{address}, not ${req.method}` });
    let raw = path.startsWith(PREFIX) ? path.slice(PREFIX.length) : '';
    try {
      raw = decodeURIComponent(raw);
    } catch {
      // Shown as sent: a malformed %-escape is no address either.
    }
    if (raw === '') return send(400, { error: 'the path needs an address: GET /proofs/0x… (0x followed by 40 hex digits)' });
    if (!isAddress(raw, { strict: false })) return send(400, { error: `${JSON.stringify(raw)} is not an address (0x followed by 40 hex digits)` });
    let payout: AccountPayout;
    try {
      payout = await accountPayout(ctx.chain, ctx.content, raw as Address);
    } catch (e) {
      if (!(e instanceof TributaryError) && !(e instanceof ContentStoreError)) throw e;
      opts.onError?.(e);
      return send(503, { error: e.message.split('\n')[0], retryable: e.retryable });
    }
    return send(200, proofsJson(payout));
  };
}
