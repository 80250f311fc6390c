import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANVIL_KEYS } from './anvilKeys.ts';
import { startDevnet, manifestPath, type DevnetOptions } from './devnet.ts';
import { startAnvil } from './anvil.ts';
import { ChainError, DevnetError } from './errors.ts';

let dir: string;
const opts = (): DevnetOptions => ({
  dataDir: dir,
  deployerKey: ANVIL_KEYS[0],
  operatorKey: ANVIL_KEYS[1],
  attributorKey: ANVIL_KEYS[2],
  signerKeys: [ANVIL_KEYS[2], ANVIL_KEYS[3]],
  signerThreshold: 2,
  epochSeconds: 3600,
  disputeWindowSeconds: 600,
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-devnet-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('startDevnet()', () => {
  it('deploys on a fresh chain, survives a restart with the same deployment, and leaves no anvil behind', async () => {
    const logs: string[] = [];
    const first = await startDevnet({ ...opts(), log: (m) => logs.push(m) });
    expect(first.deployed).toBe(true);
    expect(logs).toContain('starting a fresh anvil');
    const [pid, owner] = readFileSync(join(dir, 'devnet', 'anvil.pid'), 'utf8').split(' ').map(Number);
    expect(alive(pid!)).toBe(true);
    expect(owner).toBe(process.pid);
    const code = await first.conn.publicClient.getCode({ address: first.deployment.contracts.InferenceRouter });
    expect(code?.length).toBeGreaterThan(1000);
    const head = await first.conn.publicClient.getBlockNumber();

    // A second devnet on the same data dir would clobber the state file: refused.
    await expect(startDevnet(opts())).rejects.toThrow(DevnetError);
    await expect(startDevnet(opts())).rejects.toThrow(/already running \(anvil pid \d+\)/);

    await first.stop();
    expect(alive(pid!)).toBe(false);
    expect(existsSync(join(dir, 'devnet', 'anvil.pid'))).toBe(false);

    const second = await startDevnet({ ...opts(), log: (m) => logs.push(m) });
    try {
      expect(second.deployed).toBe(false);
      expect(second.deployment).toEqual(first.deployment);
      expect(logs.some((l) => l.startsWith('reusing the deployment from block 1'))).toBe(true);
      expect(await second.conn.publicClient.getBlockNumber()).toBe(head);
      const block = await second.conn.publicClient.getBlock({ blockNumber: 1n });
      expect(block.hash).toBe(first.deployment.deploymentBlock.hash);
    } finally {
      await second.stop();
    }
  });

  it('redeploys with a clear message when the chain no longer has the deployment block', async () => {
    const first = await startDevnet(opts());
    await first.stop();
    rmSync(join(dir, 'devnet', 'anvil-state.json'));
    const logs: string[] = [];
    const second = await startDevnet({ ...opts(), log: (m) => logs.push(m) });
    try {
      expect(second.deployed).toBe(true);
      // Same addresses on a fresh anvil: only the block hash tells the deployments apart.
      expect(second.deployment.contracts).toEqual(first.deployment.contracts);
      expect(logs).toContain(
        'the saved deployment does not match this chain (the chain has no block 1 (deployment block)): redeploying',
      );
      const saved = JSON.parse(readFileSync(manifestPath(dir), 'utf8'));
      expect(saved.deploymentBlock.hash).toBe(second.deployment.deploymentBlock.hash);
    } finally {
      await second.stop();
    }
  });

  it('detects a chain whose deployment block has another hash', async () => {
    const first = await startDevnet(opts());
    await first.stop();
    const m = JSON.parse(readFileSync(manifestPath(dir), 'utf8'));
    m.deploymentBlock.hash = `0x${'ab'.repeat(32)}`;
    writeFileSync(manifestPath(dir), JSON.stringify(m));
    const logs: string[] = [];
    const again = await startDevnet({ ...opts(), log: (l) => logs.push(l) });
    try {
      expect(again.deployed).toBe(true);
      expect(logs.find((l) => l.includes('does not match'))).toMatch(/block 1 has hash 0x[0-9a-f]{64}, the manifest says 0xabab/);
    } finally {
      await again.stop();
    }
  });

  it('refuses a malformed manifest instead of overwriting it', async () => {
    writeFileSync(manifestPath(dir), JSON.stringify({ version: 1, chainId: 'x' }));
    await expect(startDevnet(opts())).rejects.toThrow(/deployment manifest .* is malformed: chainId/);
    expect(existsSync(join(dir, 'devnet', 'anvil.pid'))).toBe(false);
  });

  it('uses RPC_URL when given, checking CHAIN_ID, and reports an unreachable RPC as retryable', async () => {
    const anvil = await startAnvil({ chainId: 4242 });
    try {
      await expect(startDevnet({ ...opts(), rpcUrl: anvil.rpcUrl, chainId: 1 })).rejects.toThrow(
        /CHAIN_ID is 1 but the RPC reports 4242/,
      );
      const d = await startDevnet({ ...opts(), rpcUrl: anvil.rpcUrl, chainId: 4242 });
      expect(d.deployment.chainId).toBe(4242);
      expect(d.deployment.demoAccounts).toEqual([]);
      await d.stop(); // does not stop an anvil it did not spawn
      expect(alive(anvil.pid)).toBe(true);
    } finally {
      await anvil.stop();
    }
    const err = await startDevnet({ ...opts(), rpcUrl: 'http://127.0.0.1:9' }).catch((e) => e);
    expect(err).toBeInstanceOf(ChainError);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/cannot reach the chain RPC at http:\/\/127.0.0.1:9/);
  });
});

describe('tributary devnet', () => {
  it('takes over from an anvil orphaned by a killed process, keeping the chain', async () => {
    const child = spawn(process.execPath, ['bin/tributary.mjs', 'devnet'], {
      env: { ...process.env, TRIBUTARY_DATA_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    const deadline = Date.now() + 60_000;
    while (!out.includes('devnet ready')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`devnet did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const orphan = Number(readFileSync(join(dir, 'devnet', 'anvil.pid'), 'utf8').split(' ')[0]);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL'); // no chance to stop anvil
    await exited;
    expect(alive(orphan)).toBe(true);
    const logs: string[] = [];
    const d = await startDevnet({ ...opts(), log: (m) => logs.push(m) });
    try {
      expect(alive(orphan)).toBe(false);
      expect(logs.some((l) => l.startsWith(`stopping anvil pid ${orphan} left running by process`))).toBe(true);
      expect(d.deployed).toBe(false); // its state was dumped on SIGTERM and reloaded
    } finally {
      await d.stop();
    }
  });

  it('stops anvil on Ctrl-C, leaving no orphan process', async () => {
    const child = spawn(process.execPath, ['bin/tributary.mjs', 'devnet'], {
      env: { ...process.env, TRIBUTARY_DATA_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    const deadline = Date.now() + 60_000;
    while (!out.includes('devnet ready')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`devnet did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(out).toContain('InferenceRouter');
    const pid = Number(readFileSync(join(dir, 'devnet', 'anvil.pid'), 'utf8').split(' ')[0]);
    expect(alive(pid)).toBe(true);
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(existsSync(join(dir, 'devnet', 'anvil-state.json'))).toBe(true);
  });
});
