// A small platform's worth of chain activity for API tests: 3 datanets, 120 contributions (some
// reviewed, slashed, withdrawn), versions, 2 models with training runs and versions, 3 days of
// usage, claims and payout batches (one revoked). Amounts above 2^64 where exactness matters.
import type { Hex } from 'viem';
import type { ClickHouseStore } from '../../../schema/index.ts';
import { addr, at, DAY_MS, ev, hex32, put, T0, type Ev } from './events.ts';

export const OWNER = addr(1);
export const CURATOR = addr(2);
export const ALICE = addr(3);
export const BOB = addr(4);
export const CAROL = addr(5);
export const POSTER = addr(20);
export const GUARDIAN = addr(21);
export const PAYER = addr(30);
export const E18 = 10n ** 18n;
/** Stake of contribution 1: far above 2^64, so a float anywhere would show. */
export const BIG_STAKE = 2n ** 129n + 5n;
export const CONTRIBUTIONS = 120;
export const CONTRIBUTORS = [ALICE, BOB, CAROL] as const;

/** Contribution i (1…120): datanet 1, 2, 3 in turn; contributors in runs of three. */
export const contributionOf = (i: number) => ({
  datanetId: ((i - 1) % 3) + 1,
  contributor: CONTRIBUTORS[Math.floor((i - 1) / 3) % 3]!,
  stake: i === 1 ? BIG_STAKE : E18 + BigInt(i),
  /** 1…60 are reviewed: every fourth rejected, the rest accepted; 61… pending. */
  status: i > 60 ? 'pending' : i % 4 === 0 ? 'rejected' : 'accepted',
});

/** The block time of `day` days after T0, plus `s` seconds. */
export const onDay = (day: number, s = 0) => T0 + day * DAY_MS + s * 1000;

export interface UsageEvent {
  modelId: bigint;
  day: number;
  tokensIn: bigint;
  tokensOut: bigint;
  fee: bigint;
}
export const split = (fee: bigint) => {
  const owner = (fee * 5000n) / 10000n;
  const treasury = (fee * 1000n) / 10000n;
  return { owner, treasury, pool: fee - owner - treasury };
};
export const USAGE: readonly UsageEvent[] = [
  { modelId: 1n, day: 0, tokensIn: 1000n, tokensOut: 500n, fee: 2n * 10n ** 17n },
  { modelId: 1n, day: 0, tokensIn: 2000n, tokensOut: 700n, fee: 2n ** 70n + 3n },
  { modelId: 1n, day: 1, tokensIn: 300n, tokensOut: 40n, fee: 999n },
  { modelId: 2n, day: 1, tokensIn: 10n, tokensOut: 20n, fee: 10001n },
];
/** One inference of model 2 on day 1 the payer could not cover. */
export const REJECTED_FEE = 12345n;

export const CLAIMS = [
  { account: ALICE, day: 0, amount: 3n * E18 },
  { account: ALICE, day: 0, amount: 2n },
  { account: BOB, day: 1, amount: 7n },
  { account: ALICE, day: 2, amount: 2n ** 100n },
] as const;

export const POOL = 2n ** 140n + 17n;

function contributionEvents(): Ev[] {
  const evs: Ev[] = [];
  for (let i = 1; i <= CONTRIBUTIONS; i++) {
    const c = contributionOf(i);
    evs.push(
      ev('DatanetRegistry', 'ContributionSubmitted', at(100 + i), {
        contributionId: BigInt(i),
        datanetId: BigInt(c.datanetId),
        contributor: c.contributor,
        contentHash: hex32(0xcc, i),
        size: BigInt(1000 * i),
        uri: `content://${i}`,
        stake: c.stake,
      }),
    );
    if (c.status !== 'pending') {
      const pos = at(300 + i);
      evs.push(
        ev('DatanetRegistry', 'ContributionReviewed', pos, {
          contributionId: BigInt(i),
          datanetId: BigInt(c.datanetId),
          reviewer: CURATOR,
          accepted: c.status === 'accepted',
          quality: 5000 + i,
          reviewedAt: BigInt(Math.floor(pos.timestampMs / 1000)),
        }),
      );
    }
  }
  return evs;
}

const datanet = (block: number, datanetId: bigint, owner: Hex, permissioned: boolean) =>
  ev('DatanetRegistry', 'DatanetCreated', at(block), {
    datanetId,
    owner,
    metadataURI: `ipfs://datanet-${datanetId}`,
    modality: 'text',
    license: 'CC-BY-4.0',
    requiredStake: E18,
    permissioned,
    feePaid: 5n * E18,
  });

const version = (block: number, datanetId: bigint, v: bigint, contributionCount: bigint) =>
  ev('DatanetRegistry', 'DatanetVersionPublished', at(block), {
    datanetId,
    version: v,
    root: hex32(0x70 + Number(datanetId), v),
    contributionCount,
    uri: `versions/${datanetId}/${v}`,
  });

const run = (block: number, log: number, runId: bigint, modelId: bigint, submitter: Hex, datanetIds: bigint[], datanetVersions: bigint[]) =>
  ev('ModelRegistry', 'TrainingRunRecorded', at(block, log), { runId, modelId, submitter, datanetIds, datanetVersions, manifestHash: hex32(0xaa, runId) });

const modelVersion = (block: number, log: number, modelId: bigint, v: bigint, runId: bigint) =>
  ev('ModelRegistry', 'ModelVersionPublished', at(block, log), { modelId, version: v, runId, adapterHash: hex32(0xad, modelId * 100n + v), adapterURI: `adapters/${modelId}/${v}` });

const model = (block: number, modelId: bigint, owner: Hex, name: string) =>
  ev('ModelRegistry', 'ModelRegistered', at(block), {
    modelId,
    owner,
    name,
    baseModel: 'tiny-gpt',
    metadataURI: `ipfs://${name}`,
    priceIn: 10n ** 14n,
    priceOut: 2n * 10n ** 14n,
    feePaid: 0n,
  });

function usageEvents(): Ev[] {
  const evs = USAGE.map((u, i) => {
    const s = split(u.fee);
    return ev('InferenceRouter', 'InferenceSettled', at(600 + i, 0, onDay(u.day, i)), {
      requestId: hex32(0xee, i),
      modelId: u.modelId,
      payer: PAYER,
      epoch: 1n,
      batchNumber: 1n,
      modelOwner: u.modelId === 1n ? ALICE : BOB,
      tokensIn: u.tokensIn,
      tokensOut: u.tokensOut,
      fee: u.fee,
      ownerAmount: s.owner,
      poolAmount: s.pool,
      treasuryAmount: s.treasury,
    });
  });
  evs.push(
    ev('InferenceRouter', 'InferenceRejected', at(620, 0, onDay(1, 50)), {
      requestId: hex32(0xef, 1),
      modelId: 2n,
      payer: PAYER,
      operator: addr(40),
      batchNumber: 2n,
      fee: REJECTED_FEE,
      reason: 1,
    }),
  );
  return evs;
}

function payoutEvents(): Ev[] {
  const posted = (block: number, epoch: bigint, nonce: bigint, total: bigint, available: bigint) => [
    ev('AttributionSettlement', 'BatchPosted', at(block, 0), {
      epoch,
      nonce,
      root: hex32(0x40, epoch * 10n + nonce),
      total,
      cumulativeTotal: total,
      scoreFileHash: hex32(0x50, epoch * 10n + nonce),
      signerSetVersion: 1n,
      available,
      claimableAt: BigInt(Math.floor(T0 / 1000) + 3600),
      poster: POSTER,
    }),
    ev('AttributionSettlement', 'RemainderRolledOver', at(block, 1), { fromEpoch: epoch, amount: available - total }),
  ];
  const evs = [
    ...posted(650, 1n, 0n, POOL - 1000n, POOL),
    ev('AttributionSettlement', 'BatchRevoked', at(651), { epoch: 1n, nonce: 0n, by: GUARDIAN, reason: 'bad score file', carryRestored: 0n, restoredEpoch: 0n }),
    ...posted(652, 1n, 1n, POOL - 5n, POOL),
    ...posted(660, 2n, 0n, 100n, 100n),
  ];
  const cumulative = new Map<Hex, bigint>();
  CLAIMS.forEach((c, i) => {
    const total = (cumulative.get(c.account) ?? 0n) + c.amount;
    cumulative.set(c.account, total);
    evs.push(ev('AttributionSettlement', 'Claimed', at(700 + i, 0, onDay(c.day, 100 + i)), { account: c.account, epoch: 1n, caller: c.account, amount: c.amount, cumulativeClaimed: total }));
  });
  return evs;
}

/** Writes the whole scenario into `store` (migrated). */
export async function seedPlatform(store: ClickHouseStore): Promise<void> {
  await put(store, [
    ev('DatanetRegistry', 'StakeCooldownSet', at(5), { cooldown: 3600n }),
    datanet(10, 1n, OWNER, false),
    datanet(11, 2n, ALICE, true),
    datanet(12, 3n, BOB, false),
    ...contributionEvents(),
    ev('DatanetRegistry', 'ContributionSlashed', at(390), { contributionId: 1n, datanetId: 1n, by: CURATOR, amount: 2n ** 128n, remainingStake: BIG_STAKE - 2n ** 128n, treasury: addr(9), reason: 'duplicate rows' }),
    ev('DatanetRegistry', 'StakeWithdrawn', at(391), { contributionId: 4n, contributor: contributionOf(4).contributor, amount: contributionOf(4).stake }),
    version(400, 1n, 1n, 5n),
    version(401, 1n, 2n, 15n),
    version(402, 2n, 1n, 15n),
    model(500, 1n, ALICE, 'poet'),
    run(500, 1, 1n, 1n, ALICE, [1n, 2n], [1n, 1n]),
    modelVersion(500, 2, 1n, 1n, 1n),
    run(510, 0, 2n, 1n, ALICE, [1n], [2n]),
    modelVersion(511, 0, 1n, 2n, 2n),
    model(520, 2n, BOB, 'critic'),
    run(520, 1, 3n, 2n, BOB, [1n], [2n]),
    modelVersion(520, 2, 2n, 1n, 3n),
    ...usageEvents(),
    ...payoutEvents(),
  ]);
}
