import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { freePort } from '../contracts/index.ts';
import { IndexerError } from './errors.ts';
import { createSplitFetcher, decodeBody } from './fetchSplit.ts';

const OURS = '0x00000000000000000000000000000000000000aa';
const OTHER = '0x00000000000000000000000000000000000000bb';
const hashOf = (n: number, fork = '') => `0x${(fork + n.toString(16)).padStart(64, 'f')}`;
const qty = (n: number) => `0x${n.toString(16)}`;

interface Call {
  id: number;
  method: string;
  params: unknown[];
}

/** A JSON-RPC server answering batches with `answer`; records the batches it got. */
async function fakeRpc(answer: (calls: Call[], attempt: number) => { status?: number; body: unknown }) {
  const batches: Call[][] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const calls = JSON.parse(body) as Call[];
      batches.push(calls);
      const { status = 200, body: out } = answer(calls, batches.length);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof out === 'string' ? out : JSON.stringify(out));
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${port}`, batches };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

const header = (n: number, fork = '') => ({
  number: qty(n),
  hash: hashOf(n, fork),
  parentHash: hashOf(n - 1, fork),
  timestamp: qty(1_700_000_000 + n),
  logsBloom: '0x00',
});
const log = (n: number, logIndex: number, address = OURS, fork = '') => ({
  address,
  topics: [`0x${'11'.repeat(32)}`],
  data: `0x${logIndex.toString(16).padStart(64, '0')}`,
  blockNumber: qty(n),
  blockHash: hashOf(n, fork),
  logIndex: qty(logIndex),
  transactionIndex: '0x0',
  transactionHash: `0x${'22'.repeat(32)}`,
  removed: false,
});

/** Replies to a batch of headers + one eth_getLogs from a chain whose logs are `logs`. */
function reply(calls: Call[], logs: unknown[], fork = '') {
  return calls.map((c) => ({
    jsonrpc: '2.0',
    id: c.id,
    result: c.method === 'eth_getBlockByNumber' ? header(Number(c.params[0]), fork) : logs,
  }));
}

describe('createSplitFetcher()', () => {
  it('fetches a range’s headers and the deployment’s logs in one batch, as blocks in Subsquid’s shape', async () => {
    const rpc = await fakeRpc((calls) => ({ body: reply(calls, [log(11, 4), log(11, 2), log(12, 0, OTHER), log(13, 7)]) }));
    const fetch = createSplitFetcher({ url: rpc.url, addresses: [OURS.toUpperCase().replace('0X', '0x')], retryAttempts: 0 });
    const blocks = await fetch({ from: 11, to: 13 });
    expect(rpc.batches).toHaveLength(1);
    expect(rpc.batches[0]!.map((c) => c.method)).toEqual(['eth_getBlockByNumber', 'eth_getBlockByNumber', 'eth_getBlockByNumber', 'eth_getLogs']);
    expect(rpc.batches[0]![3]!.params).toEqual([{ fromBlock: '0xb', toBlock: '0xd', address: [OURS] }]);
    expect(blocks.map((b) => b.header)).toEqual([11, 12, 13].map((n) => ({ height: n, hash: hashOf(n), parentHash: hashOf(n - 1), timestamp: (1_700_000_000 + n) * 1000 })));
    // Logs of other contracts are dropped (a node may ignore the filter); each block's logs in logIndex order.
    expect(blocks.map((b) => b.logs.map((l) => l.logIndex))).toEqual([[2, 4], [], [7]]);
    expect(blocks[0]!.logs[0]).toEqual({ address: OURS, topics: [`0x${'11'.repeat(32)}`], data: `0x${'2'.padStart(64, '0')}`, logIndex: 2, transactionIndex: 0, transactionHash: `0x${'22'.repeat(32)}` });
  });

  it('fetches the split again when the chain changed between the headers and the logs', async () => {
    // First answer: the logs come from another fork of block 21 than the header.
    const rpc = await fakeRpc((calls, attempt) => ({ body: attempt === 1 ? reply(calls, [log(21, 0, OURS, 'e')]) : reply(calls, [log(21, 0)]) }));
    const blocks = await createSplitFetcher({ url: rpc.url, addresses: [OURS], retryAttempts: 2 })({ from: 20, to: 21 });
    expect(rpc.batches).toHaveLength(2);
    expect(blocks[1]!.logs.map((l) => l.logIndex)).toEqual([0]);
  });

  it('refuses headers that do not chain, or a missing block, and gives up after retryAttempts', async () => {
    const rpc = await fakeRpc((calls) => ({
      body: calls.map((c) => ({ jsonrpc: '2.0', id: c.id, result: c.method === 'eth_getLogs' ? [] : Number(c.params[0]) === 31 ? { ...header(31), parentHash: hashOf(30, 'e') } : header(Number(c.params[0])) })),
    }));
    const err = await createSplitFetcher({ url: rpc.url, addresses: [OURS], retryAttempts: 1 })({ from: 30, to: 31 }).catch((e) => e);
    expect(err).toBeInstanceOf(IndexerError);
    expect(err.message).toBe('block 31 does not follow block 30 (the chain changed while fetching)');
    expect(rpc.batches).toHaveLength(2);

    const empty = await fakeRpc((calls) => ({ body: calls.map((c) => ({ jsonrpc: '2.0', id: c.id, result: null })) }));
    await expect(createSplitFetcher({ url: empty.url, addresses: [OURS], retryAttempts: 0 })({ from: 5, to: 5 })).rejects.toThrow(
      `the chain RPC at ${empty.url} has no block 5, which should be final`,
    );
  });

  it('reports an RPC that is down or failing in words the indexer recognises, and stops at once when aborted', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const down = await createSplitFetcher({ url, addresses: [OURS], retryAttempts: 0 })({ from: 1, to: 1 }).catch((e) => e);
    expect(down.message).toBe(`the chain RPC at ${url} did not answer a request for final blocks\n  connect ECONNREFUSED ${url.slice(7)}`);
    expect(down.retryable).toBe(true);

    const failing = await fakeRpc(() => ({ status: 503, body: 'busy' }));
    const err = await createSplitFetcher({ url: failing.url, addresses: [OURS], retryAttempts: 2 })({ from: 1, to: 1 }).catch((e) => e);
    expect(err.message).toBe(`the chain RPC at ${failing.url} answered HTTP 503 to a request for final blocks\n  busy`);
    expect(failing.batches).toHaveLength(3);

    const abort = new AbortController();
    const slow = createSplitFetcher({ url: failing.url, addresses: [OURS], retryAttempts: 5, signal: abort.signal })({ from: 1, to: 1 });
    setTimeout(() => abort.abort(), 50);
    await expect(slow).rejects.toThrow(/^the indexer is stopping$/);
  });

  it('decodes an ASCII body as ASCII and anything else as UTF-8', () => {
    expect(decodeBody(Buffer.from('{"a":"0xab"}'))).toBe('{"a":"0xab"}');
    expect(decodeBody(Buffer.from('{"a":"ünïcødé 🌊"}', 'utf8'))).toBe('{"a":"ünïcødé 🌊"}');
  });
});
