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
import { keccak256, type Address, type Hex } from 'viem';
import { ScoreFileError } from './errors.ts';

export const SCORE_FILE_HEADER = 'tributary-score-file 1';
/** The fixed-point unit of weights: an inference's weights sum to this. */
export const WEIGHT_SCALE = 10n ** 18n;

const MAX_UINT256 = (1n << 256n) - 1n;
const BYTES32 = /^0x[0-9a-f]{64}$/;
const ADDRESS = /^0x[0-9a-f]{40}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
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

const compareEntries = (a: ScoreEntry, b: ScoreEntry): number =>
  a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : a.contributionId < b.contributionId ? -1 : a.contributionId > b.contributionId ? 1 : 0;

/**
 * Checks a sorted list of lowercase entries: the pair order, one account per contribution, weights summing
 * to WEIGHT_SCALE per inference. `lineOf(i)` says which line entry i came from (for parse errors).
 */
function checkEntries(entries: readonly ScoreEntry[], lineOf: (i: number) => number | undefined): void {
  const accountOf = new Map<bigint, { account: string; line: number | undefined }>();
  let sum = 0n;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const prev = entries[i - 1];
    if (prev && compareEntries(prev, e) >= 0) {
      if (compareEntries(prev, e) === 0) throw new ScoreFileError(`inference ${e.requestId} lists contribution ${e.contributionId} twice`, lineOf(i));
      throw new ScoreFileError(`lines are not sorted by (requestId, contributionId): ${e.requestId} ${e.contributionId} comes after ${prev.requestId} ${prev.contributionId}`, lineOf(i));
    }
    const seen = accountOf.get(e.contributionId);
    if (seen && seen.account !== e.account) {
      throw new ScoreFileError(`contribution ${e.contributionId} is paid to ${e.account} here but to ${seen.account}${seen.line ? ` on line ${seen.line}` : ''}`, lineOf(i));
    }
    if (!seen) accountOf.set(e.contributionId, { account: e.account, line: lineOf(i) });
    if (prev && prev.requestId !== e.requestId) sum = 0n;
    sum += e.weight;
    const next = entries[i + 1];
    if (!next || next.requestId !== e.requestId) {
      if (sum !== WEIGHT_SCALE) throw new ScoreFileError(`the weights of inference ${e.requestId} sum to ${sum}, not WEIGHT_SCALE (${WEIGHT_SCALE})`, lineOf(i));
    }
  }
}

function checkEntryFields(e: ScoreEntry, where: string): void {
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

/** The entries in canonical form: lowercase hex, sorted. */
export function canonicalEntries(entries: readonly ScoreEntry[]): ScoreEntry[] {
  entries.forEach((e, i) => checkEntryFields(e, `entry ${i}`));
  const out = entries.map((e) => ({
    requestId: e.requestId.toLowerCase() as Hex,
    contributionId: e.contributionId,
    account: e.account.toLowerCase() as Address,
    weight: e.weight,
  }));
  out.sort(compareEntries);
  checkEntries(out, () => undefined);
  return out;
}

/**
 * The canonical bytes of a score file. Entries may come in any order and with checksummed addresses; they
 * are sorted and lowercased. Throws ScoreFileError for an invalid entry or weights that do not sum to
 * WEIGHT_SCALE per inference.
 */
export function encodeScoreFile(file: ScoreFile): Uint8Array {
  if (typeof file.epoch !== 'bigint' || file.epoch < 0n || file.epoch > MAX_UINT256) throw new ScoreFileError(`epoch must be a uint256 bigint, got ${String(file.epoch)}`);
  const entries = canonicalEntries(file.entries);
  const lines = [SCORE_FILE_HEADER, `epoch ${file.epoch}`];
  for (const e of entries) lines.push(`${e.requestId}\t${e.contributionId}\t${e.account}\t${e.weight}`);
  return new TextEncoder().encode(`${lines.join('\n')}\n`);
}

/**
 * Reads a score file, accepting only the canonical encoding (so one file has one hash). Throws
 * ScoreFileError naming the line and what is wrong with it.
 */
export function parseScoreFile(bytes: Uint8Array | string): ScoreFile {
  let text: string;
  if (typeof bytes === 'string') text = bytes;
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw new ScoreFileError('not valid UTF-8');
    }
  }
  if (text.charCodeAt(0) === 0xfeff) throw new ScoreFileError('starts with a byte-order mark', 1);
  if (!text.endsWith('\n')) throw new ScoreFileError('must end with a newline ("\\n")');
  const lines = text.slice(0, -1).split('\n');
  const cr = lines.findIndex((l) => l.includes('\r'));
  if (cr >= 0) throw new ScoreFileError('contains a carriage return: lines end with "\\n" only', cr + 1);
  const show = (s: string) => JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}…` : s);
  if (lines[0] !== SCORE_FILE_HEADER) throw new ScoreFileError(`expected the header ${show(SCORE_FILE_HEADER)}, got ${show(lines[0] ?? '')}`, 1);
  const epochLine = /^epoch (0|[1-9][0-9]*)$/.exec(lines[1] ?? '');
  if (!epochLine) throw new ScoreFileError(`expected "epoch <decimal>", got ${show(lines[1] ?? '')}`, 2);
  const epoch = BigInt(epochLine[1]!);
  if (epoch > MAX_UINT256) throw new ScoreFileError(`epoch ${epoch} does not fit a uint256`, 2);
  const entries: ScoreEntry[] = [];
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i]!;
    const n = i + 1;
    const f = line.split('\t');
    if (f.length !== 4) throw new ScoreFileError(`expected 4 tab-separated fields (requestId, contributionId, account, weight), got ${f.length}: ${show(line)}`, n);
    const [requestId, contributionId, account, weight] = f as [string, string, string, string];
    if (!BYTES32.test(requestId)) throw new ScoreFileError(`requestId must be 0x and 64 lowercase hex digits, got ${show(requestId)}`, n);
    if (!DECIMAL.test(contributionId)) throw new ScoreFileError(`contributionId must be a decimal without sign or leading zeros, got ${show(contributionId)}`, n);
    if (!ADDRESS.test(account)) throw new ScoreFileError(`account must be 0x and 40 lowercase hex digits, got ${show(account)}`, n);
    if (!DECIMAL.test(weight)) throw new ScoreFileError(`weight must be a decimal without sign or leading zeros, got ${show(weight)}`, n);
    const entry: ScoreEntry = { requestId: requestId as Hex, contributionId: BigInt(contributionId), account: account as Address, weight: BigInt(weight) };
    try {
      checkEntryFields(entry, 'entry');
    } catch (e) {
      throw new ScoreFileError((e as Error).message.replace(/^score file: entry: /, ''), n);
    }
    entries.push(entry);
  }
  checkEntries(entries, (i) => i + 3);
  return { epoch, entries };
}

/** keccak256 of a score file's canonical bytes: the batch's `scoreFileHash`. */
export function scoreFileHash(bytes: Uint8Array): Hex {
  return keccak256(bytes);
}
