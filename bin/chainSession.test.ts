// openChainSession() against real anvils: a running `up`, RPC_URL, and a devnet started for one command.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANVIL_KEYS, ChainError, DatanetRegistryAbi, createDatanet, manifestPath, startDevnet, type Devnet } from '../contracts/index.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { openChainSession, runningChain } from './chainSession.ts';
import { startTestDevnet } from '../contracts/testing/devnet.ts';

const REMOTE_KEYS = {
  DEPLOYER_KEY: ANVIL_KEYS[0],
  OPERATOR_KEY: ANVIL_KEYS[1],
  ATTRIBUTOR_KEY: ANVIL_KEYS[2],
  SIGNER_KEYS: `${ANVIL_KEYS[2]},${ANVIL_KEYS[3]}`,
};
const quiet = createLogger('error', () => {});

let base: string;
let devnet: Devnet;
const dirs: string[] = [];
const tempDir = (name: string) => {
  const d = join(base, name);
  dirs.push(d);
  return d;
};

/** The pid of a process that has exited: what a crashed `up` leaves in up.json. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'tributary-session-'));
  devnet = await startTestDevnet(join(base, 'chain'));
});

afterAll(async () => {
  await devnet?.stop();
  rmSync(base, { recursive: true, force: true });
});

describe('openChainSession()', () => {
  it('uses RPC_URL and the deployment manifest of the data dir, and leaves that chain running', async () => {
    const c = loadConfig({ TRIBUTARY_DATA_DIR: join(base, 'chain'), RPC_URL: devnet.rpcUrl, ...REMOTE_KEYS });
    const s = await openChainSession(c, quiet);
    expect(s.source).toBe('rpc');
    expect(s.rpcUrl).toBe(devnet.rpcUrl);
    expect(s.deployment).toEqual(devnet.deployment);
    await s.close();
    expect(await devnet.conn.publicClient.getChainId()).toBe(s.conn.chain.id);
  });

  it('refuses RPC_URL without a manifest, saying how to get one', async () => {
    const c = loadConfig({ TRIBUTARY_DATA_DIR: tempDir('empty'), RPC_URL: devnet.rpcUrl, ...REMOTE_KEYS });
    const err = await openChainSession(c, quiet).then(() => undefined, (e: unknown) => e as ChainError);
    expect(err).toBeInstanceOf(ChainError);
    expect(err!.message).toBe(
      `no deployment of Tributary is recorded for the chain at ${devnet.rpcUrl}\n` +
        `  ${manifestPath(c.dataDir)} does not exist: run \`tributary devnet\` or \`tributary up\` first, with the same RPC_URL and TRIBUTARY_DATA_DIR`,
    );
  });

  it('refuses a manifest whose deployment block is not on the chain', async () => {
    const dir = tempDir('foreign');
    const m = JSON.parse(readFileSync(manifestPath(join(base, 'chain')), 'utf8')) as { deploymentBlock: { hash: string } };
    m.deploymentBlock.hash = `0x${'ab'.repeat(32)}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(manifestPath(dir), JSON.stringify(m));
    const c = loadConfig({ TRIBUTARY_DATA_DIR: dir, RPC_URL: devnet.rpcUrl, ...REMOTE_KEYS });
    await expect(openChainSession(c, quiet)).rejects.toThrow(`the deployment in ${manifestPath(dir)} is not on the chain at ${devnet.rpcUrl}`);
  });

  it("uses a running up's chain (up.json with a live pid) before RPC_URL or a devnet of its own", async () => {
    const dir = tempDir('up');
    mkdirSync(dir, { recursive: true });
    copyFileSync(manifestPath(join(base, 'chain')), manifestPath(dir));
    // This test process stands in for the `up` process: it is alive.
    writeFileSync(join(dir, 'up.json'), JSON.stringify({ pid: process.pid, port: 4000, rpcUrl: devnet.rpcUrl }) + '\n');
    expect(runningChain(dir)).toEqual({ source: 'up', rpcUrl: devnet.rpcUrl, pid: process.pid });
    const s = await openChainSession(loadConfig({ TRIBUTARY_DATA_DIR: dir }), quiet);
    expect(s.source).toBe('up');
    expect(s.rpcUrl).toBe(devnet.rpcUrl);
    expect(s.deployment.deploymentBlock).toEqual(devnet.deployment.deploymentBlock);
    await s.close();
    expect(existsSync(join(dir, 'devnet'))).toBe(false);
    // A `tributary devnet` announces itself the same way, in devnet.json.
    rmSync(join(dir, 'up.json'));
    writeFileSync(join(dir, 'devnet.json'), JSON.stringify({ pid: process.pid, rpcUrl: devnet.rpcUrl }));
    expect(runningChain(dir)?.source).toBe('devnet');
  });

  it('ignores a stale up.json, starts the devnet for the command, and stops it with its state saved', async () => {
    const dir = tempDir('own');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'up.json'), JSON.stringify({ pid: deadPid(), port: 4000, rpcUrl: 'http://127.0.0.1:9' }) + '\n');
    expect(runningChain(dir)).toBeUndefined();
    const c = loadConfig({ TRIBUTARY_DATA_DIR: dir });
    const first = await openChainSession(c, quiet);
    expect(first.source).toBe('started');
    const [anvilPid] = readFileSync(join(dir, 'devnet', 'anvil.pid'), 'utf8').split(' ').map(Number);
    const created = await createDatanet(first, { key: c.ownerKey!, metadataURI: 'ipfs://a', modality: 'text', license: 'MIT', requiredStake: 0n, permissioned: false });
    expect(created.datanetId).toBe(1n);
    await first.close();
    expect(existsSync(join(dir, 'devnet', 'anvil.pid'))).toBe(false);
    expect(() => process.kill(anvilPid!, 0)).toThrow();
    expect(existsSync(join(dir, 'devnet', 'anvil-state.json'))).toBe(true);

    // The next command finds the same deployment and the datanet the first one created.
    const second = await openChainSession(c, quiet);
    try {
      expect(second.deployment).toEqual(first.deployment);
      const count = await second.conn.publicClient.readContract({ address: second.deployment.contracts.DatanetRegistry, abi: DatanetRegistryAbi, functionName: 'datanetCount' });
      expect(count).toBe(1n);
    } finally {
      await second.close();
    }
  });
});
