// allocateBatch(): exact conservation (the accounts get exactly the attributed pools, the rest rolls over),
// every account within one wei of its exact earning, ties by address, and the same result whatever order
// the inputs come in, over many seeded epochs.
import { describe, expect, it } from 'vitest';
import { getAddress, type Address, type Hex } from 'viem';
import { allocateBatch, type InferencePool } from './allocate.ts';
import { WEIGHT_SCALE, type ScoreEntry } from './scoreFile.ts';
import { addressOf, id32, seeded } from './testing/random.ts';

const LOW = '0x1000000000000000000000000000000000000001' as Address;
const MID = '0x2000000000000000000000000000000000000002' as Address;
const HIGH = '0x3000000000000000000000000000000000000003' as Address;

describe('allocateBatch()', () => {
  it('divides each pool by weight, sums per account and rolls over inferences with no attribution', () => {
    const r1 = id32('r1');
    const r2 = id32('r2');
    const r3 = id32('r3');
    const pools: InferencePool[] = [
      { requestId: r1, epoch: 3n, poolAmount: 1000n },
      { requestId: r2, epoch: 3n, poolAmount: 11n },
      { requestId: r3, epoch: 3n, poolAmount: 777n },
    ];
    const entries: ScoreEntry[] = [
      { requestId: r1, contributionId: 1n, account: LOW, weight: (WEIGHT_SCALE * 3n) / 4n },
      { requestId: r1, contributionId: 2n, account: MID, weight: WEIGHT_SCALE / 4n },
      { requestId: r2, contributionId: 1n, account: LOW, weight: WEIGHT_SCALE / 2n },
      { requestId: r2, contributionId: 3n, account: HIGH, weight: WEIGHT_SCALE / 2n },
    ];
    const a = allocateBatch({ scores: { epoch: 3n, entries }, pools });
    // LOW: 750 + 5.5; MID: 250; HIGH: 5.5 → the half wei goes to the lower address, LOW.
    expect(a.amounts).toEqual([
      { account: getAddress(LOW), amount: 756n },
      { account: getAddress(MID), amount: 250n },
      { account: getAddress(HIGH), amount: 5n },
    ]);
    expect({ total: a.total, poolTotal: a.poolTotal, rolledOver: a.rolledOver, unattributed: a.unattributed, attributedInferences: a.attributedInferences }).toEqual({
      total: 1011n,
      poolTotal: 1788n,
      rolledOver: 777n,
      unattributed: [r3],
      attributedInferences: 2,
    });
  });

  it('rounds once per account, not once per inference', () => {
    // Three inferences of 1 wei, each split half and half: 1.5 wei each, exactly; rounding per inference
    // could give one account all three.
    const pools = [1, 2, 3].map((i) => ({ requestId: id32(`x${i}`), epoch: 1n, poolAmount: 1n }));
    const entries = pools.flatMap((p) => [
      { requestId: p.requestId, contributionId: 1n, account: LOW, weight: WEIGHT_SCALE / 2n },
      { requestId: p.requestId, contributionId: 2n, account: MID, weight: WEIGHT_SCALE / 2n },
    ]);
    expect(allocateBatch({ scores: { epoch: 1n, entries }, pools }).amounts.map((x) => x.amount)).toEqual([2n, 1n]);
  });

  it('covers skipped epochs with fromEpoch, and refuses inputs that do not fit', () => {
    const r = id32('r');
    const e: ScoreEntry = { requestId: r, contributionId: 1n, account: LOW, weight: WEIGHT_SCALE };
    expect(allocateBatch({ scores: { epoch: 5n, entries: [e] }, pools: [{ requestId: r, epoch: 3n, poolAmount: 9n }], fromEpoch: 3n }).total).toBe(9n);
    expect(() => allocateBatch({ scores: { epoch: 5n, entries: [e] }, pools: [{ requestId: r, epoch: 3n, poolAmount: 9n }] })).toThrow(
      `inference ${r} was settled in epoch 3, outside the epochs 5..5 this batch covers`,
    );
    expect(() => allocateBatch({ scores: { epoch: 5n, entries: [e] }, pools: [] })).toThrow(`the score file credits inference ${r}, which has no pool amount (not settled in epochs 5..5?)`);
    expect(() =>
      allocateBatch({ scores: { epoch: 5n, entries: [] }, pools: [{ requestId: r, epoch: 5n, poolAmount: 1n }, { requestId: r.toUpperCase().replace('0X', '0x') as Hex, epoch: 5n, poolAmount: 1n }] }),
    ).toThrow(`inference ${r} has two pool amounts`);
    expect(() => allocateBatch({ scores: { epoch: 5n, entries: [] }, pools: [{ requestId: r, epoch: 5n, poolAmount: -1n }] })).toThrow(`inference ${r} has pool amount -1, not a non-negative bigint of wei`);
    expect(() => allocateBatch({ scores: { epoch: 5n, entries: [{ ...e, weight: 1n }] }, pools: [{ requestId: r, epoch: 5n, poolAmount: 1n }] })).toThrow('sum to 1, not WEIGHT_SCALE');
    expect(() => allocateBatch({ scores: { epoch: 5n, entries: [] }, pools: [], fromEpoch: 6n })).toThrow('fromEpoch 6 is after the score file\'s epoch 5');
  });

  it('over 300 seeded epochs: exact conservation, within one wei of exact, ties by address, independent of input order', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = seeded(seed);
      const accounts = Array.from({ length: 1 + r.int(6) }, (_, i) => addressOf(`${seed}/${i}`));
      const contributionAccount = Array.from({ length: 1 + r.int(10) }, () => r.pick(accounts));
      const pools: InferencePool[] = [];
      const entries: ScoreEntry[] = [];
      for (let i = 0; i < 1 + r.int(12); i++) {
        const requestId = id32(`${seed} inference ${i}`);
        // Small pools make fractional wei and equal remainders common; large ones test the bigint path.
        pools.push({ requestId, epoch: 7n, poolAmount: r.bool(0.7) ? r.big(20n) : r.big(10n ** 27n) });
        if (r.bool(0.2)) continue; // not attributed
        const n = 1 + r.int(Math.min(4, contributionAccount.length));
        const ids = new Set<number>();
        while (ids.size < n) ids.add(r.int(contributionAccount.length));
        // Equal weights often, so that ties happen.
        const equal = r.bool();
        let left = WEIGHT_SCALE;
        [...ids].forEach((c, k) => {
          const w = k === n - 1 ? left : equal ? WEIGHT_SCALE / BigInt(n) : 1n + r.big(left - BigInt(n - k));
          left -= w;
          entries.push({ requestId, contributionId: BigInt(c), account: contributionAccount[c]!, weight: w });
        });
      }
      const a = allocateBatch({ scores: { epoch: 7n, entries }, pools });
      const sum = a.amounts.reduce((s, x) => s + x.amount, 0n);
      const attributed = new Set(entries.map((e) => e.requestId));
      const attributedPools = pools.filter((p) => attributed.has(p.requestId)).reduce((s, p) => s + p.poolAmount, 0n);
      expect(sum, `seed ${seed}`).toBe(a.total);
      expect(a.total, `seed ${seed}`).toBe(attributedPools);
      expect(a.total + a.rolledOver, `seed ${seed}`).toBe(pools.reduce((s, p) => s + p.poolAmount, 0n));
      expect(a.unattributed.length + a.attributedInferences).toBe(pools.length);

      // Exact earnings, in 1/WEIGHT_SCALE wei.
      const exact = new Map<string, bigint>();
      for (const e of entries) exact.set(e.account, (exact.get(e.account) ?? 0n) + pools.find((p) => p.requestId === e.requestId)!.poolAmount * e.weight);
      const got = new Map(a.amounts.map((x) => [x.account.toLowerCase(), x.amount]));
      const extra: string[] = [];
      const without: string[] = [];
      for (const [acct, scaled] of exact) {
        const floor = scaled / WEIGHT_SCALE;
        const amount = got.get(acct) ?? 0n;
        expect(amount === floor || amount === floor + 1n, `seed ${seed} ${acct}`).toBe(true);
        if (scaled % WEIGHT_SCALE > 0n) (amount > floor ? extra : without).push(acct);
      }
      // Ties by address: among accounts with equal remainders, the lower addresses got the extra wei.
      for (const x of extra) {
        for (const y of without) {
          const rx = exact.get(x)! % WEIGHT_SCALE;
          const ry = exact.get(y)! % WEIGHT_SCALE;
          expect(rx > ry || (rx === ry && BigInt(x) < BigInt(y)), `seed ${seed}: ${x} over ${y}`).toBe(true);
        }
      }
      expect(a.amounts.map((x) => BigInt(x.account)), 'sorted by address').toEqual(a.amounts.map((x) => BigInt(x.account)).sort((p, q) => (p < q ? -1 : 1)));
      // Determinism: shuffled inputs, same allocation.
      const shuffle = <T>(xs: T[]) => xs.map((x) => [r.int(1 << 30), x] as const).sort((p, q) => p[0] - q[0]).map((p) => p[1]);
      expect(allocateBatch({ scores: { epoch: 7n, entries: shuffle([...entries]) }, pools: shuffle([...pools]) }), `seed ${seed}`).toEqual(a);
    }
  });
});
