// `tributary contribute` with no `tributary up` running: the command opens the stores itself, uploads
// through the same service the HTTP route uses, and signs and sends the contribution. (Over HTTP to a
// running platform: test/up.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { parseEther, parseEventLogs, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { ANVIL_KEYS, DatanetRegistryAbi, createDatanet, type Devnet } from '../../contracts/index.ts';
import { remoteChainEnv } from '../testing/remoteEnv.ts';
import { contentHash, loadUpload, openFsContentStore, parseRows, rowHash } from '../../schema/index.ts';
import { ConfigError } from '../config.ts';
import { registerContributeCommand } from './contribute.ts';
import { startTestDevnet } from '../../contracts/testing/devnet.ts';

const ALICE = ANVIL_KEYS[5];
let base: string;
let dataDir: string;
let devnet: Devnet;
let env: Record<string, string>;
let datanetId: bigint;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'tributary-contribute-cli-'));
  dataDir = join(base, 'data');
  devnet = await startTestDevnet(dataDir, { demo: true });
  env = remoteChainEnv(devnet, dataDir, { CONTRIBUTOR_KEY: ALICE });
  datanetId = (
    await createDatanet(devnet, { key: ANVIL_KEYS[7], metadataURI: 'data:,x', modality: 'text', license: 'CC0', requiredStake: parseEther('2'), permissioned: false })
  ).datanetId;
});

afterAll(async () => {
  await devnet?.stop();
  rmSync(base, { recursive: true, force: true });
});

async function run(args: string[], e: Record<string, string> = env): Promise<string> {
  let out = '';
  const program = registerContributeCommand(new Command().exitOverride(), { env: e, out: (t) => (out += t), log: () => {} }).parent!;
  await program.parseAsync(['node', 'tributary', 'contribute', ...args]);
  return out;
}

const file = (name: string, text: string) => {
  const p = join(base, name);
  writeFileSync(p, text);
  return p;
};

describe('tributary contribute (no platform running)', () => {
  it('uploads into the data dir, stakes, contributes, and says what it did', async () => {
    const text = 'Mussels filter seawater.\nLimpets graze on algae.\n';
    const out = await run(['--datanet', String(datanetId), '--file', file('shore.txt', text)]);
    const hash = contentHash(parseRows({ bytes: new TextEncoder().encode(text), filename: 'shore.txt' }).rows.map(rowHash));
    expect(out).toMatch(
      new RegExp(
        `^uploaded shore\\.txt: 2 text rows, content hash ${hash}\\ncontribution 1 to datanet ${datanetId} with stake 2 OPEN in tx 0x[0-9a-f]{64} \\(block \\d+\\)\\n  upload quota: ${text.length} of 10485760 bytes used today \\(UTC\\)\\n$`,
      ),
    );
    // The chain has the contribution, carrying the content hash; the content store has the signed upload.
    const logs = await devnet.conn.publicClient.getLogs({ address: devnet.deployment.contracts.DatanetRegistry, fromBlock: 0n });
    const [submitted] = parseEventLogs({ abi: DatanetRegistryAbi, logs, eventName: 'ContributionSubmitted' });
    expect(submitted!.args).toMatchObject({ contributionId: 1n, datanetId, contributor: privateKeyToAddress(ALICE), contentHash: hash, size: BigInt(text.length), stake: parseEther('2') });
    const store = await openFsContentStore({ root: join(dataDir, 'content') });
    expect((await loadUpload(store, hash, privateKeyToAddress(ALICE).toLowerCase() as Hex))?.receipt).toMatchObject({ filename: 'shore.txt', rowCount: 2 });

    // The same rows again: nothing new to store. (Whether its rows are copies shows once an indexer has
    // seen contribution 1: no indexer runs without `up`, so the command cannot say so here.)
    const again = await run(['--datanet', String(datanetId), '--file', file('shore-again.txt', 'Limpets graze on algae.\nMussels filter seawater.\n'), '--stake', '3']);
    expect(again).toMatch(/\(uploaded before\)\ncontribution 2 to datanet \d+ with stake 3 OPEN/);
  });

  it('refuses a bad file, a missing file and a missing key with clear messages', async () => {
    await expect(run(['--datanet', String(datanetId), '--file', file('bad.jsonl', '{"text":"ok"}\n{"txt":"typo"}\n')])).rejects.toThrow(/line 2/);
    await expect(run(['--datanet', String(datanetId), '--file', join(base, 'nope.txt')])).rejects.toThrow(`--file: cannot read ${join(base, 'nope.txt')} (ENOENT)`);
    const { CONTRIBUTOR_KEY: _, ...noKey } = env;
    const e = await run(['--datanet', String(datanetId), '--file', file('ok.txt', 'x\n')], noKey).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toContain('CONTRIBUTOR_KEY: required to sign `tributary contribute` when RPC_URL is set');
    await expect(run(['--datanet', '999', '--file', file('ok2.txt', 'y\n')])).rejects.toThrow('datanet 999 does not exist');
  });
});
