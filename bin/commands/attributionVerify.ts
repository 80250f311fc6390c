// `tributary attribution verify --epoch N [--root 0x…] [--json]`: rebuilds a payout batch from its files in
// the data dir's content store (the score file, and the previous batch's cumulative leaves) and the pool
// amounts of the inferences settled in the epochs it covers, as the indexer copied them into ClickHouse, and
// compares it with the batch: the one posted on chain for the epoch (root, total, score-file hash, cumulative
// total, and the pools the router funded), or, with --root, a batch proposed for signing and not posted. A
// second signer runs this before co-signing. Exit 0: it matches; 1: it does not (the field is named); 2: it
// cannot be checked.
//
// ClickHouse: a server (CLICKHOUSE_URL) is read as it stands; the embedded chDB is first brought up to the
// chain's head by indexing. While `tributary up` holds the embedded chDB, the pools are read from the chain's
// InferenceSettled logs instead (the same values; the output says so).
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { Hex } from 'viem';
import { TributaryError, formatOpen, getEpochPool, getPostedBatch, getSettlementState, type ChainContext } from '../../contracts/index.ts';
import { CLICKHOUSE_MIGRATIONS, ContentStoreError, migrate, openClickHouse, openFsContentStore, type ClickHouseStore, type ContentStore } from '../../schema/index.ts';
import { indexToHead } from '../indexToHead.ts';
import {
  AllocationError,
  PayoutMismatchError,
  ScoreFileError,
  chainPools,
  indexedPools,
  loadPayoutBatchFiles,
  verifyPayoutBatch,
  verifyPostedBatch,
  type ComputedPayoutBatch,
  type InferencePool,
  type PayoutLeaf,
  type ScoreFileParts,
  type StoredPayoutBatch,
} from '../../attribution/index.ts';
import { loadConfig, type Config } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
import { openChainSession, runningChain, type ChainSession } from '../chainSession.ts';
import { toJson, type DatanetCommandIo } from './datanet.ts';

const positiveEpoch = (v: string): bigint => {
  if (!/^\d+$/.test(v.trim()) || BigInt(v.trim()) === 0n) throw new InvalidArgumentError(`--epoch must be a positive integer, got "${v}"`);
  return BigInt(v.trim());
};
const bytes32 = (v: string): Hex => {
  if (!/^0x[0-9a-fA-F]{64}$/.test(v.trim())) throw new InvalidArgumentError(`--root must be 0x followed by 64 hex digits, got "${v}"`);
  return v.trim().toLowerCase() as Hex;
};

// ------------------------------------------------------------------ pools

export interface PoolsRead {
  pools: InferencePool[];
  source: 'clickhouse' | 'chain';
  /** Why the pools came from the chain, when they did. */
  note?: string;
}

async function readPools(c: Config, log: Logger, session: ChainSession, fromEpoch: bigint, toEpoch: bigint): Promise<PoolsRead> {
  const up = runningChain(c.dataDir);
  if (!c.clickhouseUrl && up?.source === 'up') {
    return {
      pools: await chainPools(session, { fromEpoch, toEpoch }),
      source: 'chain',
      note: `\`tributary up\` (pid ${up.pid}) holds the embedded ClickHouse of ${c.dataDir}, so the pools were read from the chain's InferenceSettled logs instead`,
    };
  }
  const ch = await openClickHouse({ url: c.clickhouseUrl, dataDir: c.dataDir });
  try {
    await migrate(ch, CLICKHOUSE_MIGRATIONS);
    if (ch.embedded) await indexToHead(ch, session, c, log);
    return { pools: await indexedPools(ch.client, { fromEpoch, toEpoch }), source: 'clickhouse' };
  } finally {
    await ch.close();
  }
}

// ------------------------------------------------------------------ the batch

/** The newest posted, unrevoked batch of an epoch before `epoch` (0: none): what a batch of `epoch` builds on. */
async function previousEpochBefore(ctx: ChainContext, epoch: bigint): Promise<bigint> {
  let e = (await getSettlementState(ctx)).lastPostedEpoch;
  while (e >= epoch && e > 0n) e = (await getPostedBatch(ctx, e))!.prevEpoch;
  return e;
}

async function loadFiles(content: ContentStore, root: string, epoch: bigint, batchRoot: Hex, what: string): Promise<StoredPayoutBatch> {
  let files: StoredPayoutBatch | undefined;
  try {
    files = await loadPayoutBatchFiles(content, epoch, batchRoot);
  } catch (e) {
    if (e instanceof ContentStoreError) throw new TributaryError(`cannot read the files of ${what} in ${root}: ${e.message}`, { cause: e });
    throw e;
  }
  if (!files) {
    throw new TributaryError(`the content store in ${root} has no files for ${what} (epoch ${epoch}, root ${batchRoot})`, {
      details: "verifying needs the batch's score file and the previous batch's leaves: use the data dir of the attributor that computed them, or a copy of its content store",
    });
  }
  return files;
}

export interface VerifyOutcome {
  epoch: bigint;
  root: Hex;
  /** posted: the batch on chain for the epoch; proposed: files of a batch that is not posted (--root). */
  status: 'posted' | 'proposed';
  nonce: bigint | undefined;
  fromEpoch: bigint;
  previousEpoch: bigint;
  pools: PoolsRead;
  /** The rebuilt batch (absent when the inputs could not be allocated together). */
  batch: ComputedPayoutBatch | undefined;
  mismatch: { field: string; expected?: string; actual?: string; details?: string } | undefined;
}

function mismatchOf(e: PayoutMismatchError): NonNullable<VerifyOutcome['mismatch']> {
  return { field: e.field, expected: e.expected, actual: e.actual, ...(e.details ? { details: e.details } : {}) };
}

/** Rebuilds and compares; throws TributaryError when the batch cannot be checked (none posted, revoked, files missing). */
export async function verifyStoredBatch(c: Config, log: Logger, session: ChainSession, epoch: bigint, root: Hex | undefined): Promise<VerifyOutcome> {
  const contentRoot = join(c.dataDir, 'content');
  const content = await openFsContentStore({ root: contentRoot });
  const posted = await getPostedBatch(session, epoch);
  const batchRoot = (root ?? posted?.root)?.toLowerCase() as Hex | undefined;
  if (!batchRoot) {
    throw new TributaryError(`no payout batch was posted for epoch ${epoch}`, {
      details: 'to check a batch proposed for signing, pass its root with --root (its files must be in this data dir\'s content store)',
    });
  }
  const isPosted = posted !== undefined && posted.root.toLowerCase() === batchRoot;
  if (isPosted && posted.revoked) throw new TributaryError(`the payout batch of epoch ${epoch} (nonce ${posted.nonce}, root ${batchRoot}) was revoked: it no longer stands, so there is nothing to verify`);
  const files = await loadFiles(content, contentRoot, epoch, batchRoot, `the payout batch of epoch ${epoch}`);

  const previousEpoch = isPosted ? posted.prevEpoch : await previousEpochBefore(session, epoch);
  const previousBatch = previousEpoch === 0n ? undefined : await getPostedBatch(session, previousEpoch);
  const previous: readonly PayoutLeaf[] = previousBatch ? (await loadFiles(content, contentRoot, previousEpoch, previousBatch.root, `the previous payout batch (epoch ${previousEpoch})`)).leaves : [];
  const fromEpoch = previousEpoch + 1n;
  const pools = await readPools(c, log, session, fromEpoch, epoch);

  // The score file is read in parts (it can be larger than one string), checked against its SHA-256; its
  // keccak256 is what the rebuild below computes and compares with the batch's.
  let scoreFile: ScoreFileParts;
  try {
    scoreFile = await files.readScoreFile({ checkHash: false });
  } catch (e) {
    if (e instanceof ContentStoreError) throw new TributaryError(`cannot read the score file of the payout batch of epoch ${epoch} in ${contentRoot}: ${e.message}`, { cause: e });
    throw e;
  }

  const outcome = { epoch, root: batchRoot, status: isPosted ? 'posted' : 'proposed', nonce: isPosted ? posted.nonce : undefined, fromEpoch, previousEpoch, pools } as const;
  try {
    const result = isPosted
      ? await verifyPostedBatch(session, { epoch, scores: scoreFile, pools: pools.pools, previous })
      : verifyPayoutBatch({
          scores: scoreFile,
          pools: pools.pools,
          previous,
          fromEpoch,
          claimed: { epoch, root: batchRoot, total: files.total, scoreFileHash: files.scoreFileHash, cumulativeTotal: files.cumulativeTotal },
          previousCumulativeTotal: previousBatch?.cumulativeTotal ?? 0n,
        });
    if (!result.ok) return { ...outcome, batch: result.batch, mismatch: mismatchOf(result.error) };
    if (!isPosted) {
      // What verifyPostedBatch checks for a posted batch: the pools given are all the router funded.
      let funded = 0n;
      for (let e = fromEpoch; e <= epoch; e++) funded += await getEpochPool(session, e);
      if (funded !== result.batch.allocation.poolTotal) {
        const details = `the pool amounts given do not add up to what the router funded in epochs ${fromEpoch}..${epoch}: a settled inference is missing or extra`;
        return { ...outcome, batch: result.batch, mismatch: { field: 'poolTotal', expected: funded.toString(), actual: result.batch.allocation.poolTotal.toString(), details } };
      }
    }
    return { ...outcome, batch: result.batch, mismatch: undefined };
  } catch (e) {
    // A score file that scores an inference with no settled pool in these epochs, or is not canonical,
    // describes another batch than the indexed events give: a mismatch, not a failure to check.
    if (e instanceof AllocationError || e instanceof ScoreFileError) return { ...outcome, batch: undefined, mismatch: { field: e instanceof AllocationError ? 'pools' : 'scoreFile', details: e.message } };
    throw e;
  }
}

// ------------------------------------------------------------------ output

const epochs = (from: bigint, to: bigint) => (from === to ? `epoch ${to}` : `epochs ${from}..${to}`);

export function verifySummary(v: VerifyOutcome): string {
  const what = v.status === 'posted' ? `posted, nonce ${v.nonce}, root ${v.root}` : `proposed, not posted; root ${v.root}`;
  const poolsFrom = v.pools.source === 'clickhouse' ? 'indexed in ClickHouse' : "from the chain's InferenceSettled logs";
  const prev = v.previousEpoch === 0n ? 'no previous batch' : `the leaves of epoch ${v.previousEpoch}'s batch`;
  const inputs = `its score file, the pools of ${v.pools.pools.length} inferences settled in ${epochs(v.fromEpoch, v.epoch)} (${poolsFrom}) and ${prev}`;
  const lines: string[] = [];
  if (!v.mismatch) {
    const b = v.batch!;
    lines.push(`epoch ${v.epoch}'s payout batch matches (${what})`);
    lines.push(`  rebuilt from ${inputs}`);
    lines.push(`  total ${formatOpen(b.total)} to ${b.allocation.amounts.length} accounts for ${b.allocation.attributedInferences} attributed inferences (cumulative ${formatOpen(b.cumulativeTotal)}); ${formatOpen(b.allocation.rolledOver)} of unattributed pools rolls over`);
  } else {
    const m = v.mismatch;
    const says = m.expected !== undefined ? `${m.field} is ${m.actual}, but the inputs give ${m.expected}` : `${m.field}: ${m.details}`;
    lines.push(`epoch ${v.epoch}'s payout batch does NOT match (${what}): ${says}`);
    if (m.expected !== undefined && m.details) lines.push(`  ${m.details}`);
    lines.push(`  rebuilt from ${inputs}`);
    lines.push(v.status === 'posted' ? '  do not rely on it: the guardian can revoke it while its dispute window lasts' : '  do not sign it');
  }
  if (v.pools.note) lines.push(`  note: ${v.pools.note}`);
  return lines.join('\n') + '\n';
}

function verifyJson(v: VerifyOutcome) {
  const b = v.batch;
  return {
    epoch: v.epoch,
    root: v.root,
    status: v.status,
    nonce: v.nonce ?? null,
    match: v.mismatch === undefined,
    mismatch: v.mismatch ?? null,
    fromEpoch: v.fromEpoch,
    previousEpoch: v.previousEpoch,
    poolsSource: v.pools.source,
    ...(v.pools.note ? { poolsNote: v.pools.note } : {}),
    inferences: v.pools.pools.length,
    rebuilt: b
      ? { root: b.root, total: b.total, cumulativeTotal: b.cumulativeTotal, scoreFileHash: b.scoreFileHash, accounts: b.allocation.amounts.length, attributedInferences: b.allocation.attributedInferences, rolledOver: b.allocation.rolledOver }
      : null,
  };
}

/** Thrown after the result is printed, so the process exits 1 (main turns a CommanderError into its code). */
export const MISMATCH_EXIT_CODE = 1;

export function registerAttributionVerifyCommand(attribution: Command, io: DatanetCommandIo = {}): Command {
  const out = io.out ?? ((t: string) => void process.stdout.write(t));
  return attribution
    .command('verify')
    .description("rebuild an epoch's payout batch from its score file, the indexed settlement events and the previous leaves, and compare (exit 0 match, 1 mismatch, 2 cannot check)")
    .requiredOption('--epoch <n>', 'the epoch whose batch to check', positiveEpoch)
    .option('--root <0x…>', "a batch's Merkle root: check that batch (e.g. one proposed for signing) instead of the one posted", bytes32)
    .addOption(new Option('--json', 'print the result as JSON (amounts in wei, as decimal strings)'))
    .action(async (o: { epoch: bigint; root?: Hex; json?: boolean }) => {
      const c = loadConfig(io.env ?? process.env);
      const log = createLogger(c.logLevel, io.log);
      const session = await openChainSession(c, log);
      let v: VerifyOutcome;
      try {
        v = await verifyStoredBatch(c, log, session, o.epoch, o.root);
      } finally {
        await session.close();
      }
      out(o.json ? toJson(verifyJson(v)) + '\n' : verifySummary(v));
      if (v.mismatch) throw new CommanderError(MISMATCH_EXIT_CODE, 'tributary.payoutMismatch', `epoch ${o.epoch}'s payout batch does not match its inputs`);
    });
}
