// `tributary up` as a user runs it: one process, chain + deployment + both stores + HTTP; Ctrl-C stops
// everything; a restart resumes without redoing work.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { ANVIL_KEYS, artifacts, connectChain, readManifest } from '../contracts/index.ts';
import { registerContributeCommand } from '../bin/commands/contribute.ts';
import { registerKeysCommand } from '../bin/commands/keys.ts';
import OpenAI from 'openai';
import { privateKeyToAddress } from 'viem/accounts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-up-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function up(args = ['--no-demo'], verb = 'up', ready = 'Tributary is up', startMs = 90_000): Promise<{ child: ChildProcess; out: () => string; port: number }> {
  const child = spawn(process.execPath, ['bin/tributary.mjs', verb, ...args], {
    env: { ...process.env, TRIBUTARY_DATA_DIR: dir, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  const deadline = Date.now() + startMs;
  while (!out.includes(ready)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${verb} did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const port = Number(/http:\/\/127\.0\.0\.1:(\d+)\/healthz/.exec(out)![1]);
  return { child, out: () => out, port };
}

async function interrupt(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGINT');
  return exited;
}

describe('tributary up', () => {
  it('brings up chain, stores and HTTP, stops cleanly on Ctrl-C, and resumes on restart', async () => {
    const first = await up();
    const health = (await (await fetch(`http://127.0.0.1:${first.port}/healthz`)).json()) as {
      status: string;
      checks: Record<string, { ok: boolean }>;
    };
    expect(health.status).toBe('ok');
    expect(Object.keys(health.checks).sort()).toEqual(['chain', 'clickhouse', 'indexer', 'postgres']);
    // The indexer catches up with the chain (the deployment's own events).
    const deadline = Date.now() + 30_000;
    let indexer = '';
    while (!/, 0 blocks behind$/.test(indexer)) {
      if (Date.now() > deadline) throw new Error(`indexer did not catch up: ${indexer}`);
      await new Promise((r) => setTimeout(r, 500));
      const h = (await (await fetch(`http://127.0.0.1:${first.port}/healthz`)).json()) as { checks: Record<string, { status: string }> };
      indexer = h.checks.indexer!.status;
    }
    expect(indexer).toMatch(/^indexed to block [1-9]\d* \(final \d+\), 0 blocks behind$/);
    expect(first.out()).toContain('applied ClickHouse migration 3');
    const metrics = await (await fetch(`http://127.0.0.1:${first.port}/metrics`)).text();
    expect(metrics).toMatch(/^tributary_chain_head_block \d+$/m);
    expect(metrics).toMatch(/^tributary_indexer_lag_blocks 0$/m);
    expect(metrics).toMatch(/^tributary_indexer_rows_total [1-9]\d*$/m);
    expect(metrics).toMatch(/tributary_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} [1-9]/);
    // GraphQL serves what the indexer wrote: the deployment block's events include no datanet yet.
    const gql = (await (
      await fetch(`http://127.0.0.1:${first.port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ datanets { totalCount } payoutBatches { totalCount } }' }),
      })
    ).json()) as { data?: { datanets: { totalCount: number } }; errors?: unknown };
    expect(gql.errors).toBeUndefined();
    expect(gql.data?.datanets.totalCount).toBe(0);

    // A datanet created on-chain shows up in GraphQL through the indexer.
    const { rpcUrl } = JSON.parse(readFileSync(join(dir, 'up.json'), 'utf8')) as { rpcUrl: string };
    const conn = await connectChain(rpcUrl);
    const deployment = readManifest(join(dir, 'deployment.json'))!;
    const wallet = conn.wallet(ANVIL_KEYS[7]);
    const hash = await wallet.writeContract({
      address: deployment.contracts.DatanetRegistry,
      abi: artifacts.DatanetRegistry.abi,
      functionName: 'createDatanet',
      args: ['file://meta.json', 'text', 'CC-BY-4.0', 10n ** 18n, false],
    });
    await conn.publicClient.waitForTransactionReceipt({ hash });
    const until = Date.now() + 30_000;
    let seen: { license: string; requiredStake: string; owner: string }[] = [];
    while (seen.length === 0) {
      if (Date.now() > until) throw new Error('the new datanet never reached GraphQL');
      await new Promise((r) => setTimeout(r, 500));
      const r = (await (
        await fetch(`http://127.0.0.1:${first.port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ datanets { nodes { license requiredStake owner } } }' }),
        })
      ).json()) as { data: { datanets: { nodes: typeof seen } } };
      seen = r.data.datanets.nodes;
    }
    expect(seen).toEqual([{ license: 'CC-BY-4.0', requiredStake: '1000000000000000000', owner: wallet.account.address.toLowerCase() }]);
    const anvilPid = Number(readFileSync(join(dir, 'devnet', 'anvil.pid'), 'utf8').split(' ')[0]);
    expect(await interrupt(first.child)).toBe(0);
    expect(alive(anvilPid)).toBe(false);
    expect(existsSync(join(dir, 'up.json'))).toBe(false);

    const second = await up();
    try {
      expect(second.out()).toContain('reusing the deployment from block 1');
      expect(second.out()).not.toContain('applied ClickHouse migration');
      expect(second.out()).toContain('migrationsApplied=0');
      const res = await fetch(`http://127.0.0.1:${second.port}/nope`);
      expect(res.status).toBe(404);
    } finally {
      expect(await interrupt(second.child)).toBe(0);
    }
  });

  it('seeds the demo (uploads, trained models, keys, inferences, settled fees) on a fresh devnet; `tributary contribute` and `tributary keys create` reach it over HTTP', async () => {
    // The demo trains three small adapters before the platform says it is up.
    const platform = await up([], 'up', 'Tributary is up', 300_000);
    const gql = async <T>(query: string): Promise<T> => {
      const r = (await (
        await fetch(`http://127.0.0.1:${platform.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) })
      ).json()) as { data: T; errors?: unknown };
      expect(r.errors).toBeUndefined();
      return r.data;
    };
    const until = async <T>(query: string, done: (d: T) => boolean): Promise<T> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const d = await gql<T>(query);
        if (done(d)) return d;
        if (Date.now() > deadline) throw new Error(`never true: ${JSON.stringify(d)}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    };
    try {
      expect(platform.out()).toContain('demo data seeded');
      type Datanets = { datanets: { nodes: { id: string; versionCount: number; acceptedCount: number; rejectedCount: number; pendingCount: number; permissioned: boolean }[] } };
      const q = '{ datanets { nodes { id versionCount acceptedCount rejectedCount pendingCount permissioned } } }';
      const seeded = await until<Datanets>(q, (d) => d.datanets.nodes.length === 3 && d.datanets.nodes[1]!.versionCount === 2);
      expect(seeded.datanets.nodes).toEqual([
        { id: '1', versionCount: 2, acceptedCount: 4, rejectedCount: 1, pendingCount: 1, permissioned: false },
        { id: '2', versionCount: 2, acceptedCount: 4, rejectedCount: 0, pendingCount: 0, permissioned: false },
        { id: '3', versionCount: 1, acceptedCount: 2, rejectedCount: 0, pendingCount: 0, permissioned: true },
      ]);
      // Every demo file went through the upload path: one signed receipt per contribution.
      expect(readdirSync(join(dir, 'content', 'refs', 'uploads'), { recursive: true }).filter((f) => String(f).includes('/'))).toHaveLength(12);

      // `tributary contribute` finds the running platform and uploads over HTTP (this process opens no store).
      const file = join(dir, 'mine.jsonl');
      writeFileSync(file, '{"prompt":"Why does bread go stale?","completion":"Its starch recrystallises as it cools and dries."}\n');
      let out = '';
      const program = registerContributeCommand(new Command().exitOverride(), {
        env: { TRIBUTARY_DATA_DIR: dir, LOG_LEVEL: 'error' },
        out: (t) => (out += t),
        log: () => {},
      }).parent!;
      await program.parseAsync(['node', 'tributary', 'contribute', '--datanet', '2', '--file', file]);
      expect(out).toMatch(/^uploaded mine\.jsonl: 1 prompt-completion rows, content hash 0x[0-9a-f]{64}\ncontribution 13 to datanet 2 with stake 0 OPEN in tx 0x[0-9a-f]{64} \(block \d+\)\n/);
      await until<{ contributions: { nodes: { id: string; status: string }[] } }>(
        '{ contributions(datanetId: "2", status: PENDING) { nodes { id status } } }',
        (d) => d.contributions.nodes.some((n) => n.id === '13'),
      );

      // The demo's models are registered, served and paid for: each has usage settled on-chain.
      type Models = { models: { nodes: { id: string; name: string; versionCount: number; usage: { nodes: { settledCount: string; fee: string; poolAmount: string }[] } }[] } };
      const models = await until<Models>('{ models { nodes { id name versionCount usage { nodes { settledCount fee poolAmount } } } } }', (d) =>
        d.models.nodes.length === 3 && d.models.nodes.every((m) => m.usage.nodes.length > 0),
      );
      expect(models.models.nodes.map((m) => [m.id, m.name, m.versionCount])).toEqual([
        ['1', 'coastal-ecology', 1],
        ['2', 'kitchen-science', 1],
        ['3', 'support-sentiment', 1],
      ]);
      for (const m of models.models.nodes) {
        const [day] = m.usage.nodes;
        expect(BigInt(day!.settledCount)).toBeGreaterThan(0n);
        expect(BigInt(day!.fee)).toBeGreaterThan(0n);
        expect(BigInt(day!.poolAmount)).toBeGreaterThan(0n);
      }

      // Epoch 1 was attributed and paid out during start-up: its batch is on chain and indexed, its
      // rewards and scores are in GraphQL, and the contributors' proofs are served.
      type Paid = { payoutBatches: { nodes: { epoch: string; total: string; status: string }[] } };
      const paid = await until<Paid>('{ payoutBatches { nodes { epoch total status } } }', (d) => d.payoutBatches.nodes.length > 0);
      expect(paid.payoutBatches.nodes[0]).toMatchObject({ epoch: '1', status: 'POSTED' });
      expect(BigInt(paid.payoutBatches.nodes[0]!.total)).toBeGreaterThan(0n);
      type Earned = { contributor: { cumulativeEarned: string; attributedInferences: { totalCount: number } } };
      const earners = await Promise.all(
        ['0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc', '0x976ea74026e726554db657fa54763abd0c3a0aa9', '0x14dc79964da2c08b23698b3d3cc7ca32193d9955'].map((a) =>
          until<Earned>(`{ contributor(address: "${a}") { cumulativeEarned attributedInferences { totalCount } } }`, () => true),
        ),
      );
      const earned = earners.reduce((s, e) => s + BigInt(e.contributor.cumulativeEarned), 0n);
      expect(earned).toBeGreaterThan(0n);
      expect(earned).toBeLessThanOrEqual(BigInt(paid.payoutBatches.nodes[0]!.total));
      const proofs = await (await fetch(`http://127.0.0.1:${platform.port}/proofs/0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc`)).json() as { account: string };
      expect(proofs.account).toBe('0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc');

      // `tributary keys create` signs a grant with PAYER_KEY and gets the key from the running platform.
      let keyOut = '';
      const keysProgram = registerKeysCommand(new Command().exitOverride(), {
        env: { TRIBUTARY_DATA_DIR: dir, LOG_LEVEL: 'error', PAYER_KEY: ANVIL_KEYS[8] },
        out: (t) => (keyOut += t),
        log: () => {},
      }).parent!;
      const payer = privateKeyToAddress(ANVIL_KEYS[8]!);
      await keysProgram.parseAsync(['node', 'tributary', 'keys', 'create', '--payer', payer, '--label', 'test', '--json']);
      const created = JSON.parse(keyOut) as { key: string; payer: string };
      expect(created.payer).toBe(payer);

      // The official OpenAI client, unchanged, against the platform's /v1.
      const client = new OpenAI({ apiKey: created.key, baseURL: `http://127.0.0.1:${platform.port}/v1` });
      const listed = (await client.models.list()).data.map((m) => m.id).sort();
      expect(listed).toEqual(['coastal-ecology', 'kitchen-science', 'support-sentiment', 'tributary-tiny']);
      const answer = await client.completions.create({ model: 'kitchen-science', prompt: 'Why does bread brown?', max_tokens: 8, temperature: 0 });
      expect(answer.usage!.completion_tokens).toBeGreaterThan(0);
      await expect(client.completions.create({ model: 'no-such-model', prompt: 'x', max_tokens: 1 })).rejects.toMatchObject({ status: 404 });
    } finally {
      expect(await interrupt(platform.child)).toBe(0);
    }
  }, 600_000);

  it('runs the indexer alone (`tributary index`), the API alone (`tributary api`) and inference alone (`tributary serve`)', async () => {
    const health = async (port: number) => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { status: string; checks: Record<string, unknown> };
    const indexer = await up([], 'index', 'indexer is up');
    try {
      const h = await health(indexer.port);
      expect(h.status).toBe('ok');
      expect(Object.keys(h.checks).sort()).toEqual(['chain', 'clickhouse', 'indexer']);
      expect((await fetch(`http://127.0.0.1:${indexer.port}/graphql`)).status).toBe(404);
      expect(existsSync(join(dir, 'up.json'))).toBe(false);
    } finally {
      expect(await interrupt(indexer.child)).toBe(0);
    }
    // Embedded stores allow one process per data dir, so here they run one after the other.
    const api = await up([], 'api', 'API is up');
    try {
      const h = await health(api.port);
      expect(Object.keys(h.checks).sort()).toEqual(['chain', 'clickhouse', 'postgres']);
      const r = (await (
        await fetch(`http://127.0.0.1:${api.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ datanets { totalCount } }"}' })
      ).json()) as { data: { datanets: { totalCount: number } } };
      expect(r.data.datanets.totalCount).toBe(0);
      expect((await fetch(`http://127.0.0.1:${api.port}/v1/models`)).status).toBe(404);
    } finally {
      expect(await interrupt(api.child)).toBe(0);
    }
    // Inference alone (`tributary serve`): /v1 and /keys, no GraphQL.
    const serve = await up([], 'serve', 'inference server is up');
    try {
      const h = await health(serve.port);
      expect(Object.keys(h.checks).sort()).toEqual(['chain', 'clickhouse', 'postgres']);
      expect((await fetch(`http://127.0.0.1:${serve.port}/graphql`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${serve.port}/v1/models`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${serve.port}/keys`)).status).toBe(405);
    } finally {
      expect(await interrupt(serve.child)).toBe(0);
    }
  });
});
