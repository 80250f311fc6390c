// The canonical score file: what an epoch's payouts are computed from, and what its hash on-chain commits
// to. One byte encoding, so that anyone who holds the file can hash it, check it against the batch's
// `scoreFileHash`, and rebuild the payouts.
//
// Encoding, version 1 (UTF-8, no byte-order mark, every line ended by one "\n", nothing else):
//
//   tributary-score-file 1
//   epoch <E>
//   <requestId>\t<contributionId>\t<account>\t<weight>      one line per (inference, contribution)
//
// - E: the epoch of the payout batch, in decimal.
// - requestId: the inference's id (InferenceSettled.requestId), 0x and 64 lowercase hex digits.
// - contributionId: the DatanetRegistry contribution credited, in decimal.
// - account: the address paid for that contribution, 0x and 40 lowercase hex digits (not the zero address);
//   a contribution is paid to one account throughout the file.
// - weight: the contribution's share of the inference's pool, as a fixed-point fraction of WEIGHT_SCALE
//   (10^18), in decimal, at least 1. An inference's weights sum to exactly WEIGHT_SCALE.
// Decimals have no sign and no leading zeros. Lines are sorted by requestId (as hex text, which is its
// numeric order), then by contributionId (numerically); a (requestId, contributionId) pair appears once.
// An inference with no line has no positive attribution: its pool share rolls over.
// The file's hash is keccak256 of these bytes (scoreFileHash).
//
// This file holds the format's rules, checked one entry at a time (so that a file of millions of lines is
// checked as it streams by); scoreFile.ts encodes, scoreFileReader.ts parses.
import type { Address, Hex } from 'viem';
import { ScoreFileError } from './errors.ts';

export const SCORE_FILE_HEADER = 'tributary-score-file 1';
/** The fixed-point unit of weights: an inference's weights sum to this. */
export const WEIGHT_SCALE = 10n ** 18n;

export const MAX_UINT256 = (1n << 256n) - 1n;
export const BYTES32 = /^0x[0-9a-f]{64}$/;
export const ADDRESS = /^0x[0-9a-f]{40}$/;
export const DECIMAL = /^(0|[1-9][0-9]*)$/;
const ZERO_ADDRESS = `0x${'0'.repeat(40)}`;

/** One contribution's weight in one inference. */
export interface ScoreEntry {
  requestId: Hex;
  contributionId: bigint;
  account: Address;
  /** Fixed-point share of the inference's pool, in units of 1 / WEIGHT_SCALE. */
  weight: bigint;
}

export interface ScoreFile {
  epoch: bigint;
  entries: readonly ScoreEntry[];
}

export const compareEntries = (a: ScoreEntry, b: ScoreEntry): number =>
  a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : a.contributionId < b.contributionId ? -1 : a.contributionId > b.contributionId ? 1 : 0;

export function checkEpoch(epoch: bigint): void {
  if (typeof epoch !== 'bigint' || epoch < 0n || epoch > MAX_UINT256) throw new ScoreFileError(`epoch must be a uint256 bigint, got ${String(epoch)}`);
}

export function checkEntryFields(e: ScoreEntry, where: string): void {
  if (typeof e.requestId !== 'string' || !BYTES32.test(e.requestId.toLowerCase())) throw new ScoreFileError(`${where}: requestId must be 0x and 64 hex digits, got ${String(e.requestId)}`);
  if (typeof e.contributionId !== 'bigint' || e.contributionId < 0n || e.contributionId > MAX_UINT256) {
    throw new ScoreFileError(`${where}: contributionId must be a uint256 bigint, got ${String(e.contributionId)}`);
  }
  if (typeof e.account !== 'string' || !ADDRESS.test(e.account.toLowerCase())) throw new ScoreFileError(`${where}: account must be 0x and 40 hex digits, got ${String(e.account)}`);
  if (e.account.toLowerCase() === ZERO_ADDRESS) throw new ScoreFileError(`${where}: account must not be the zero address`);
  if (typeof e.weight !== 'bigint' || e.weight < 1n || e.weight > WEIGHT_SCALE) {
    throw new ScoreFileError(`${where}: weight must be an integer from 1 to WEIGHT_SCALE (${WEIGHT_SCALE}), got ${String(e.weight)}`);
  }
}

/** Checks lowercase entries in file order, one at a time; `end()` after the last. */
export interface EntryChecker {
  /** `line`: where the entry came from (for parse errors), undefined for entries built in memory. */
  check(e: ScoreEntry, line?: number): void;
  end(): void;
}

/**
 * The rules across entries: the pair order, one account per contribution, weights summing to WEIGHT_SCALE
 * per inference. An inference's sum is checked when its last entry is known to be the last (the next entry
 * is another inference's, or the file ends), and reported at that last entry's line.
 */
export function createEntryChecker(): EntryChecker {
  const accountOf = new Map<bigint, { account: string; line: number | undefined }>();
  let prev: { e: ScoreEntry; line: number | undefined } | undefined;
  let sum = 0n;
  const closeInference = () => {
    if (prev && sum !== WEIGHT_SCALE) throw new ScoreFileError(`the weights of inference ${prev.e.requestId} sum to ${sum}, not WEIGHT_SCALE (${WEIGHT_SCALE})`, prev.line);
    sum = 0n;
  };
  return {
    check(e, line) {
      if (prev) {
        if (prev.e.requestId !== e.requestId) closeInference();
        const order = compareEntries(prev.e, e);
        if (order === 0) throw new ScoreFileError(`inference ${e.requestId} lists contribution ${e.contributionId} twice`, line);
        if (order > 0) throw new ScoreFileError(`lines are not sorted by (requestId, contributionId): ${e.requestId} ${e.contributionId} comes after ${prev.e.requestId} ${prev.e.contributionId}`, line);
      }
      const seen = accountOf.get(e.contributionId);
      if (seen && seen.account !== e.account) {
        throw new ScoreFileError(`contribution ${e.contributionId} is paid to ${e.account} here but to ${seen.account}${seen.line ? ` on line ${seen.line}` : ''}`, line);
      }
      if (!seen) accountOf.set(e.contributionId, { account: e.account, line });
      sum += e.weight;
      prev = { e, line };
    },
    end() {
      closeInference();
    },
  };
}

/** The entries in canonical form: lowercase hex, sorted, checked. */
export function canonicalEntries(entries: readonly ScoreEntry[]): ScoreEntry[] {
  entries.forEach((e, i) => checkEntryFields(e, `entry ${i}`));
  const out = entries.map((e) => ({
    requestId: e.requestId.toLowerCase() as Hex,
    contributionId: e.contributionId,
    account: e.account.toLowerCase() as Address,
    weight: e.weight,
  }));
  out.sort(compareEntries);
  const checker = createEntryChecker();
  for (const e of out) checker.check(e);
  checker.end();
  return out;
}
