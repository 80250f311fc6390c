// `tributary datanet create|review|publish|grant` end to end on a real anvil: most runs in-process (the
// same commander program, with its own env and output), and the installed bin as a child process for exit
// codes, stderr and the path where the command starts the devnet itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { keccak256, parseEther, toHex, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import {
  ANVIL_KEYS,
  ContractRevertError,
  DatanetRegistryAbi,
  contribute,
  readDatanetMetadataURI,
  startDevnet,
  type Devnet,
} from '../../contracts/index.ts';
import { datanetVersionRoot } from '../../schema/index.ts';
import { registerDatanetCommand } from './datanet.ts';
import { remoteChainEnv } from '../testing/remoteEnv.ts';
import { startTestDevnet } from '../../contracts/testing/devnet.ts';

const K = { owner: ANVIL_KEYS[7], curator: ANVIL_KEYS[6], alice: ANVIL_KEYS[5], bob: ANVIL_KEYS[8], stranger: ANVIL_KEYS[4] };
const addr = (k: Hex) => privateKeyToAddress(k);
const TX = '0x[0-9a-f]{64}';
const IN_TX = `in tx ${TX} \\(block \\d+, [\\d,]+ gas\\)`;

let base: string;
let devnet: Devnet;
let env: Record<string, string>;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'tributary-datanet-cli-'));
  devnet = await startTestDevnet(join(base, 'chain'));
  // A remote chain as far as the CLI knows: RPC_URL and every key given explicitly.
  env = remoteChainEnv(devnet, join(base, 'chain'), { OWNER_KEY: K.owner, CURATOR_KEY: K.curator });
});

afterAll(async () => {
  await devnet?.stop();
  rmSync(base, { recursive: true, force: true });
});

/** Runs `tributary datanet …` in this process; resolves to what it printed on stdout. */
async function datanet(args: string[], extraEnv: Record<string, string | undefined> = {}): Promise<string> {
  const out: string[] = [];
  const program = new Command().exitOverride().configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => out.push(s) });
  registerDatanetCommand(program, { env: { ...env, ...extraEnv }, out: (s) => out.push(s), log: () => {} });
  await program.parseAsync(['datanet', ...args], { from: 'user' });
  return out.join('');
}

/** Runs the installed bin as a child process. */
function bin(args: string[], childEnv: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['bin/tributary.mjs', ...args], { env: { PATH: process.env.PATH ?? '', ...childEnv } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const read = <T>(functionName: string, args: readonly unknown[]) =>
  (devnet.conn.publicClient.readContract as (a: unknown) => Promise<T>)({ address: devnet.deployment.contracts.DatanetRegistry, abi: DatanetRegistryAbi, functionName, args });

async function submit(datanetId: bigint, key: Hex, label: string, stake: bigint) {
  return contribute(devnet, { key, datanetId, contentHash: keccak256(toHex(label)), size: 10n, uri: `file://${label}`, stake });
}

describe('tributary datanet (RPC_URL and keys given)', () => {
  it('creates, appoints a curator, reviews, publishes and grants, printing one line each', async () => {
    const created = await datanet(['create', '--name', 'Coastal ecology', '--description', 'Tide pools', '--stake', '10']);
    expect(created).toMatch(new RegExp(`^created datanet 1 "Coastal ecology" \\(stake 10 OPEN, open to all\\) owned by ${addr(K.owner)} ${IN_TX}\\n$`));
    const d = await read<{ owner: string; requiredStake: bigint; permissioned: boolean }>('getDatanet', [1n]);
    expect(d).toMatchObject({ owner: addr(K.owner), requiredStake: parseEther('10'), permissioned: false });
    const [ev] = await devnet.conn.publicClient.getContractEvents({ address: devnet.deployment.contracts.DatanetRegistry, abi: DatanetRegistryAbi, eventName: 'DatanetCreated', fromBlock: 0n });
    expect(readDatanetMetadataURI(ev!.args.metadataURI!)).toEqual({ name: 'Coastal ecology', description: 'Tide pools' });
    expect(ev!.args).toMatchObject({ modality: 'text', license: 'CC-BY-4.0' });

    expect(await datanet(['grant', '1', addr(K.curator), '--curator'])).toMatch(new RegExp(`^made ${addr(K.curator)} a curator of datanet 1 ${IN_TX}\\n$`));

    const c1 = await submit(1n, K.alice, 'c1', parseEther('10'));
    const c2 = await submit(1n, K.bob, 'c2', parseEther('10'));
    const c3 = await submit(1n, K.alice, 'c3', parseEther('12.5'));
    expect(await datanet(['review', String(c1.contributionId), '--accept', '--quality', '8550'])).toMatch(
      new RegExp(`^accepted contribution ${c1.contributionId} of datanet 1 with quality 8550 \\(85.5%\\) ${IN_TX}\\n$`),
    );
    expect(await datanet(['review', String(c2.contributionId), '--reject'])).toMatch(new RegExp(`^rejected contribution ${c2.contributionId} of datanet 1 with quality 0 \\(0%\\) ${IN_TX}\\n$`));
    expect(await read('getContribution', [c1.contributionId])).toMatchObject({ status: 2, quality: 8550 });
    expect(await read('getContribution', [c2.contributionId])).toMatchObject({ status: 3, quality: 0 });
    await expect(datanet(['review', String(c1.contributionId), '--reject'])).rejects.toThrow(
      `cannot review contribution ${c1.contributionId}: contribution ${c1.contributionId} was already accepted`,
    );

    // Version 1: only c1 (c2 rejected, c3 pending).
    const v1 = await datanet(['publish', '1']);
    const root1 = datanetVersionRoot([{ contributionId: c1.contributionId, contentHash: c1.contentHash }]);
    expect(v1).toMatch(new RegExp(`^published version 1 of datanet 1: 1 accepted contribution as of block \\d+, root ${root1} ${IN_TX}\\n$`));
    expect(await read('versionRoot', [1n, 1n])).toBe(root1);

    // Version 2 after accepting c3 (default quality 10000), as JSON.
    expect(JSON.parse(await datanet(['review', String(c3.contributionId), '--accept', '--json']))).toMatchObject({ accepted: true, quality: 10000, datanetId: '1' });
    const v2 = JSON.parse(await datanet(['publish', '1', '--json'])) as Record<string, unknown>;
    const root2 = datanetVersionRoot([c1, c3].map((c) => ({ contributionId: c.contributionId, contentHash: c.contentHash })));
    expect(v2).toEqual({
      txHash: expect.stringMatching(new RegExp(`^${TX}$`)),
      blockNumber: expect.stringMatching(/^\d+$/),
      gasUsed: expect.stringMatching(/^\d+$/),
      datanetId: '1',
      version: '2',
      root: root2,
      contributionCount: '2',
      uri: 'data:application/json,' + encodeURIComponent(JSON.stringify({ acceptedAsOfBlock: v2.acceptedAsOfBlock })),
      acceptedAsOfBlock: String(BigInt(v2.blockNumber as string) - 1n),
      contributionIds: [String(c1.contributionId), String(c3.contributionId)],
    });
    expect(await read('versionRoot', [1n, 2n])).toBe(root2);
    expect(await datanet(['publish', '1', '--uri', 'ipfs://v3'])).toMatch(/^published version 3 of datanet 1: 2 accepted contributions/);
  });

  it('creates a permissioned datanet with --json and grants and revokes access on it', async () => {
    const j = JSON.parse(await datanet(['create', '--name', 'Code', '--modality', 'code', '--license', 'MIT', '--stake', '0.5', '--permissioned', '--json']));
    expect(j).toEqual({
      name: 'Code',
      txHash: expect.stringMatching(new RegExp(`^${TX}$`)),
      blockNumber: expect.stringMatching(/^\d+$/),
      gasUsed: expect.stringMatching(/^\d+$/),
      datanetId: expect.stringMatching(/^\d+$/),
      owner: addr(K.owner),
      metadataURI: 'data:application/json,' + encodeURIComponent('{"name":"Code"}'),
      modality: 'code',
      license: 'MIT',
      requiredStake: '500000000000000000',
      permissioned: true,
      feePaid: '0',
    });
    const id = j.datanetId as string;
    const bob = addr(K.bob);
    expect(await datanet(['grant', id, bob])).toMatch(new RegExp(`^granted ${bob} access to datanet ${id} ${IN_TX}\\n$`));
    expect(await read('hasAccess', [BigInt(id), bob])).toBe(true);
    expect(await datanet(['grant', id, bob.toLowerCase(), '--revoke'])).toMatch(new RegExp(`^revoked the access of ${bob} to datanet ${id} ${IN_TX}\\n$`));
    expect(await read('hasAccess', [BigInt(id), bob])).toBe(false);
    // Granting on an open datanet works but changes nothing: say so.
    const open = (JSON.parse(await datanet(['create', '--name', 'Open', '--json'])) as { datanetId: string }).datanetId;
    expect(await datanet(['grant', open, bob])).toMatch(new RegExp(`\\n  note: datanet ${open} is open to all, so anyone may train on it whatever is granted\\n$`));
  });

  it('refuses what the chain would refuse, before signing anything', async () => {
    const stranger = addr(K.stranger);
    const nonce = await devnet.conn.publicClient.getTransactionCount({ address: stranger });
    const created = JSON.parse(await datanet(['create', '--name', 'Refusals', '--json'])) as { datanetId: string };
    const id = created.datanetId;
    const c = await submit(BigInt(id), K.alice, 'refused', 0n);

    const notCurator = await datanet(['review', String(c.contributionId), '--accept'], { CURATOR_KEY: K.stranger }).catch((e: unknown) => e);
    expect(notCurator).toBeInstanceOf(ContractRevertError);
    expect((notCurator as Error).message.split('\n')[0]).toBe(`cannot review contribution ${c.contributionId}: ${stranger} is not a curator of datanet ${id} (nor its owner)`);
    await expect(datanet(['publish', id])).rejects.toThrow(
      new RegExp(`^cannot publish a version of datanet ${id}: it has no accepted contributions \\(as of block \\d+\\)\\n  accept some first: tributary datanet review <contributionId> --accept$`),
    );
    await expect(datanet(['publish', '999'])).rejects.toThrow('cannot publish a version of datanet 999: datanet 999 does not exist');
    await datanet(['review', String(c.contributionId), '--accept'], { CURATOR_KEY: K.owner });
    await expect(datanet(['publish', id], { OWNER_KEY: K.stranger })).rejects.toThrow(`cannot publish a version of datanet ${id}: ${stranger} is not the owner of datanet ${id}`);
    await expect(datanet(['grant', id, stranger], { OWNER_KEY: K.stranger })).rejects.toThrow(`cannot grant access to datanet ${id} for ${stranger}: ${stranger} is not the owner of datanet ${id}`);
    await expect(datanet(['create', '--name', 'x'], { OWNER_KEY: undefined })).rejects.toThrow(
      'OWNER_KEY: required to sign `tributary datanet create` when RPC_URL is set',
    );
    expect(await devnet.conn.publicClient.getTransactionCount({ address: stranger })).toBe(nonce);
  });

  it('refuses malformed arguments with a usage error', async () => {
    const usage = (args: string[]) => datanet(args).then(() => '', (e: Error) => e.message);
    expect(await usage(['review', '1'])).toBe('error: say --accept or --reject');
    expect(await usage(['review', '1', '--accept', '--reject'])).toMatch(/option '--accept' cannot be used with option '--reject'/);
    expect(await usage(['review', '1', '--accept', '--quality', '10001'])).toMatch(/quality is 0 to 10000 basis points \(10000 = 100%\), got "10001"/);
    expect(await usage(['review', 'seven', '--accept'])).toMatch(/contributionId must be a positive integer, got "seven"/);
    expect(await usage(['create', '--name', 'x', '--stake', '-1'])).toMatch(/"-1" is not an amount of OPEN/);
    expect(await usage(['create', '--name', 'x', '--stake', '0.0000000000000000001'])).toMatch(/has 19 decimals/);
    expect(await usage(['create'])).toMatch(/required option '--name <name>' not specified/);
    expect(await usage(['grant', '1', '0x123'])).toMatch(/"0x123" is not an address/);
  });
});

describe('the installed bin', () => {
  it('exits 2 with the readable message on a refusal or a missing key, and 0 with the summary on stdout', async () => {
    const { OWNER_KEY: _owner, ...noOwner } = env;
    const id = (JSON.parse(await datanet(['create', '--name', 'Bin', '--json'])) as { datanetId: string }).datanetId;
    const [missingKey, revert, ok] = await Promise.all([
      bin(['datanet', 'create', '--name', 'x'], noOwner),
      bin(['datanet', 'review', '999', '--accept'], env),
      bin(['datanet', 'grant', id, addr(K.bob), '--curator', '--json'], env),
    ]);
    expect(missingKey.code).toBe(2);
    expect(missingKey.stderr).toContain('OWNER_KEY: required to sign `tributary datanet create` when RPC_URL is set');
    expect(revert.code).toBe(2);
    expect(revert.stderr).toContain('tributary: cannot review contribution 999: contribution 999 does not exist');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ role: 'curator', datanetId: id, curator: addr(K.bob), enabled: true });
  });

  it('starts the devnet of the data dir itself when nothing runs, and keeps what it did for the next command', async () => {
    const dir = join(base, 'own-devnet');
    const own = { TRIBUTARY_DATA_DIR: dir, LOG_LEVEL: 'warn' };
    const first = await bin(['datanet', 'create', '--name', 'First', '--stake', '1'], own);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`^created datanet 1 "First" \\(stake 1 OPEN, open to all\\) owned by ${addr(ANVIL_KEYS[7])} ${IN_TX}\\n$`));
    expect(existsSync(join(dir, 'devnet', 'anvil.pid'))).toBe(false);
    const second = await bin(['datanet', 'create', '--name', 'Second', '--json'], own);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ name: 'Second', datanetId: '2' });
    expect(existsSync(join(dir, 'devnet', 'anvil.pid'))).toBe(false);
  });
});
