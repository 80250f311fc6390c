// The InferenceRouter operations against a real anvil with the protocol deployed: exact decoded batches
// (fees as the contract quotes them, rejections with their reasons), refusals in words that send
// nothing, a batch found again from the logs, and the gas a settled item costs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256, maxUint256, parseEther, parseEventLogs, toHex, type Address, type Hash, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { ANVIL_KEYS } from './anvilKeys.ts';
import { ModelRegistryAbi } from './generated/artifacts.ts';
import type { Devnet } from './devnet.ts';
import { createDatanet, datanetMetadataURI, publishVersion, type ChainContext } from './datanetOps.ts';
import { ContractRevertError } from './revertMessage.ts';
import {
  approveOperator,
  depositEscrow,
  findSettledBatch,
  getEscrow,
  getOperatorAllowance,
  isRouterOperator,
  lastSettledBatch,
  quoteInference,
  settleUsage,
  type UsageItem,
} from './routerOps.ts';
import { startTestDevnet } from './testing/devnet.ts';

const K = {
  operator: ANVIL_KEYS[1],
  datanetOwner: ANVIL_KEYS[7],
  modelOwner: ANVIL_KEYS[8],
  payer: ANVIL_KEYS[9],
  // Deposits, but lets the operator bill only 1 wei.
  stingy: ANVIL_KEYS[6],
  // Holds ETH but no OPEN: no escrow.
  broke: ANVIL_KEYS[4],
};
const addr = (k: Hex) => privateKeyToAddress(k);
const PRICE_IN = parseEther('0.002');
const PRICE_OUT = parseEther('0.006');

let dir: string;
let devnet: Devnet;
let ctx: ChainContext;
let modelId: bigint;

const rid = (s: string) => keccak256(toHex(s));
const item = (label: string, over: Partial<UsageItem> = {}): UsageItem => ({
  requestId: rid(label),
  payer: addr(K.payer),
  modelId,
  tokensIn: 120,
  tokensOut: 37,
  ...over,
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-router-ops-'));
  devnet = await startTestDevnet(dir);
  ctx = devnet;
  // A model needs a published datanet version; an open datanet lets anyone train on it.
  const d = await createDatanet(ctx, { key: K.datanetOwner, metadataURI: datanetMetadataURI({ name: 'router' }), modality: 'text', license: 'CC0-1.0', requiredStake: 0n, permissioned: false });
  await publishVersion(ctx, { key: K.datanetOwner, datanetId: d.datanetId, root: rid('root'), contributionCount: 1n, uri: 'file://v1' });
  const hash = await devnet.conn.wallet(K.modelOwner).writeContract({
    address: devnet.deployment.contracts.ModelRegistry,
    abi: ModelRegistryAbi,
    functionName: 'registerModel',
    args: [
      {
        name: 'router-test',
        baseModel: 'tributary-tiny',
        metadataURI: 'file://model.json',
        priceIn: PRICE_IN,
        priceOut: PRICE_OUT,
        adapterHash: rid('adapter'),
        adapterURI: 'file://adapter',
        datanets: [{ datanetId: d.datanetId, version: 1n }],
        manifestHash: rid('manifest'),
      },
    ],
  });
  const receipt = await devnet.conn.publicClient.waitForTransactionReceipt({ hash });
  const [registered] = parseEventLogs({ abi: ModelRegistryAbi, logs: receipt.logs, eventName: 'ModelRegistered', strict: true });
  modelId = registered!.args.modelId;
  await depositEscrow(ctx, { key: K.payer, amount: parseEther('1000') });
  await approveOperator(ctx, { key: K.payer, operator: addr(K.operator), allowance: maxUint256 });
  await depositEscrow(ctx, { key: K.stingy, amount: parseEther('10') });
  await approveOperator(ctx, { key: K.stingy, operator: addr(K.operator), allowance: 1n });
});

afterAll(async () => {
  await devnet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const nonceOf = (a: Address) => devnet.conn.publicClient.getTransactionCount({ address: a });

async function rejection(p: Promise<unknown>): Promise<ContractRevertError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ContractRevertError) return e;
    throw e;
  }
  throw new Error('expected a ContractRevertError');
}

describe('escrow', () => {
  it('depositEscrow() approves the router and reports the new balance; approveOperator() sets the allowance', async () => {
    const before = await getEscrow(ctx, addr(K.payer));
    const r = await depositEscrow(ctx, { key: K.payer, amount: 5n });
    expect(r.approval).toBeDefined();
    expect({ payer: r.payer, amount: r.amount, balance: r.balance }).toEqual({ payer: addr(K.payer), amount: 5n, balance: before.balance + 5n });
    expect(await getEscrow(ctx, addr(K.payer))).toEqual({ balance: before.balance + 5n, pendingWithdrawal: 0n });
    expect(await getOperatorAllowance(ctx, addr(K.payer), addr(K.operator))).toBe(maxUint256);
    expect(await getOperatorAllowance(ctx, addr(K.stingy), addr(K.operator))).toBe(1n);
    expect(await isRouterOperator(ctx, addr(K.operator))).toBe(true);
    expect(await isRouterOperator(ctx, addr(K.payer))).toBe(false);
  });

  it('depositEscrow() refuses zero and more OPEN than the wallet holds, sending nothing', async () => {
    const nonce = await nonceOf(addr(K.broke));
    expect((await rejection(depositEscrow(ctx, { key: K.broke, amount: 0n }))).message).toBe('cannot deposit 0 OPEN into escrow: the amount must not be zero\n  the contract would revert with ZeroAmount(); nothing was sent');
    const e = await rejection(depositEscrow(ctx, { key: K.broke, amount: parseEther('1') }));
    expect(e.errorName).toBe('ERC20InsufficientBalance');
    expect(e.message).toContain(`cannot deposit 1 OPEN into escrow: ${addr(K.broke)} holds 0 OPEN, less than the 1 OPEN needed`);
    expect(await nonceOf(addr(K.broke))).toBe(nonce);
  });
});

describe('settleUsage()', () => {
  let first: Awaited<ReturnType<typeof settleUsage>>;
  let sent: Hash | undefined;

  it('bills a batch: one entry per item with the fee the contract quotes, rejected items with their reason', async () => {
    expect(await lastSettledBatch(ctx, addr(K.operator))).toBe(0n);
    const escrowBefore = (await getEscrow(ctx, addr(K.payer))).balance;
    const items = [
      item('a', { tokensIn: 120, tokensOut: 37 }),
      item('b', { tokensIn: 1, tokensOut: 1 }),
      item('broke', { payer: addr(K.broke) }),
      item('stingy', { payer: addr(K.stingy) }),
      item('no-model', { modelId: 999n }),
      item('c', { tokensIn: 4096, tokensOut: 333_333 }),
    ];
    first = await settleUsage(ctx, { key: K.operator, batchNumber: 1n, items, onSent: (h) => void (sent = h) });
    expect(sent).toBe(first.txHash);
    const fee = (tin: bigint, tout: bigint) => (tin * PRICE_IN + tout * PRICE_OUT) / 1000n;
    const quotes = await Promise.all([items[0]!, items[1]!, items[5]!].map((i) => quoteInference(ctx, i)));
    expect(quotes.map((q) => q.fee)).toEqual([fee(120n, 37n), fee(1n, 1n), fee(4096n, 333_333n)]);
    expect(first.settled.map((s) => [s.requestId, s.payer, s.modelId, s.tokensIn, s.tokensOut, s.fee, s.ownerAmount, s.poolAmount, s.treasuryAmount, s.batchNumber, s.modelOwner])).toEqual(
      [items[0]!, items[1]!, items[5]!].map((i, k) => [
        i.requestId, i.payer, modelId, BigInt(i.tokensIn), BigInt(i.tokensOut), quotes[k]!.fee, quotes[k]!.ownerAmount, quotes[k]!.poolAmount, quotes[k]!.treasuryAmount, 1n, addr(K.modelOwner),
      ]),
    );
    for (const q of quotes) expect(q.ownerAmount + q.poolAmount + q.treasuryAmount).toBe(q.fee);
    expect(first.rejected.map((r) => [r.requestId, r.payer, r.reason, r.fee, r.operator, r.batchNumber])).toEqual([
      [rid('broke'), addr(K.broke), 'InsufficientEscrow', fee(120n, 37n), addr(K.operator), 1n],
      [rid('stingy'), addr(K.stingy), 'InsufficientAllowance', fee(120n, 37n), addr(K.operator), 1n],
      [rid('no-model'), addr(K.payer), 'ModelInactive', 0n, addr(K.operator), 1n],
    ]);
    const total = quotes.reduce((s, q) => s + q.fee, 0n);
    expect({ operator: first.operator, batchNumber: first.batchNumber, settledCount: first.settledCount, rejectedCount: first.rejectedCount, feeTotal: first.feeTotal }).toEqual({
      operator: addr(K.operator),
      batchNumber: 1n,
      settledCount: 3n,
      rejectedCount: 3n,
      feeTotal: total,
    });
    expect(first.ownerTotal + first.poolTotal + first.treasuryTotal).toBe(total);
    expect(first.settled.every((s) => s.epoch === first.epoch)).toBe(true);
    // Log order is item order: settled and rejected interleave as the items did.
    expect([...first.settled, ...first.rejected].sort((x, y) => x.logIndex - y.logIndex).map((x) => x.requestId)).toEqual(items.map((i) => i.requestId));
    expect((await getEscrow(ctx, addr(K.payer))).balance).toBe(escrowBefore - total);
    expect(await lastSettledBatch(ctx, addr(K.operator))).toBe(1n);
    const receipt = await devnet.conn.publicClient.getTransactionReceipt({ hash: first.txHash });
    expect({ blockNumber: first.blockNumber, gasUsed: first.gasUsed }).toEqual({ blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed });
  });

  it('refuses a repeated, a skipped, an empty or a malformed batch and a non-operator in words, sending nothing', async () => {
    const op = addr(K.operator);
    const nonce = await nonceOf(op);
    const repeated = await rejection(settleUsage(ctx, { key: K.operator, batchNumber: 1n, items: [item('again')] }));
    expect(repeated.errorName).toBe('BatchOutOfOrder');
    expect(repeated.errorArgs).toEqual([op, 2n, 1n]);
    expect(repeated.message.split('\n')[0]).toBe(`cannot settle usage batch 1: batch 1 is out of order: operator ${op}'s next batch must be number 2`);
    const skipped = await rejection(settleUsage(ctx, { key: K.operator, batchNumber: 3n, items: [item('skip')] }));
    expect(skipped.message.split('\n')[0]).toBe(`cannot settle usage batch 3: batch 3 is out of order: operator ${op}'s next batch must be number 2`);
    const empty = await rejection(settleUsage(ctx, { key: K.operator, batchNumber: 2n, items: [] }));
    expect(empty.message).toBe('cannot settle usage batch 2: a batch must hold at least one item\n  the contract would revert with EmptyBatch(); nothing was sent');
    const stranger = await rejection(settleUsage(ctx, { key: K.payer, batchNumber: 1n, items: [item('x')] }));
    expect(stranger.message.split('\n')[0]).toBe(`cannot settle usage batch 1: ${addr(K.payer)} is not an operator of the InferenceRouter (governance enables operators with setOperator)`);
    await expect(settleUsage(ctx, { key: K.operator, batchNumber: 2n, items: [item('x', { requestId: '0x1234' })] })).rejects.toThrow(
      'cannot settle usage batch 2: item 0 has requestId 0x1234, not 0x followed by 64 hex digits',
    );
    await expect(settleUsage(ctx, { key: K.operator, batchNumber: 2n, items: [item('x'), item('y', { tokensOut: 2 ** 32 })] })).rejects.toThrow(
      'cannot settle usage batch 2: item 1 has tokensOut 4294967296, not an integer from 0 to 4294967295',
    );
    await expect(settleUsage(ctx, { key: K.operator, batchNumber: 0n, items: [item('x')] })).rejects.toThrow('cannot settle usage batch 0: batch numbers start at 1, got 0');
    expect(await nonceOf(op)).toBe(nonce);
    expect(await lastSettledBatch(ctx, op)).toBe(1n);
  });

  it('findSettledBatch() reads a batch back from the chain exactly as settleUsage() returned it', async () => {
    expect(await findSettledBatch(ctx, { operator: addr(K.operator), batchNumber: 1n })).toEqual(first);
    // In windows of two blocks, the search walks back from the head.
    await settleUsage(ctx, { key: K.operator, batchNumber: 2n, items: [item('later')] });
    expect(await findSettledBatch(ctx, { operator: addr(K.operator), batchNumber: 1n, maxBlockRange: 2n })).toEqual(first);
    expect(await findSettledBatch(ctx, { operator: addr(K.operator), batchNumber: 9n })).toBeUndefined();
    expect(await findSettledBatch(ctx, { operator: addr(K.payer), batchNumber: 1n })).toBeUndefined();
  });

  it('costs less gas per item as batches grow (1, 10, 100 items)', async () => {
    const perItem: Record<number, bigint> = {};
    let n = await lastSettledBatch(ctx, addr(K.operator));
    for (const size of [1, 10, 100]) {
      const items = Array.from({ length: size }, (_, i) => item(`gas-${size}-${i}`, { tokensIn: 100 + i, tokensOut: 10 + i }));
      const r = await settleUsage(ctx, { key: K.operator, batchNumber: ++n, items });
      expect(r.settled).toHaveLength(size);
      perItem[size] = r.gasUsed / BigInt(size);
      // Reported in the README's billing section.
      console.log(`settle: ${size} items, ${r.gasUsed} gas, ${perItem[size]} gas per item`);
    }
    expect(perItem[10]!).toBeLessThan(perItem[1]!);
    expect(perItem[100]!).toBeLessThanOrEqual(perItem[10]!);
    // Each settled item writes escrow, owner earnings and a 12-field event: well under 60k gas.
    expect(perItem[100]!).toBeLessThan(60_000n);
  });
});
