// Reads a score file a piece at a time, line by line, accepting only the canonical encoding
// (scoreFileFormat.ts), so that a file of millions of lines is never one string: each entry goes to the
// caller as soon as its line is complete and checked. Errors name the line and what is wrong with it.
import type { Address, Hex } from 'viem';
import { ScoreFileError } from './errors.ts';
import { ADDRESS, BYTES32, DECIMAL, MAX_UINT256, SCORE_FILE_HEADER, checkEntryFields, createEntryChecker, type ScoreEntry } from './scoreFileFormat.ts';

/** Longer than any canonical line (an entry is at most 208 characters): a longer one is not read whole. */
const MAX_LINE_CHARS = 1024;

export interface ScoreFileReaderHandlers {
  /** Called once, with line 2's epoch, before any entry. */
  onEpoch?: (epoch: bigint) => void;
  /** Each entry, checked (fields, order, account, and its inference's sum once that inference ends), in file order. */
  onEntry?: (entry: ScoreEntry, line: number) => void;
}

export interface ScoreFileReader {
  /** The next bytes of the file (any split, even inside a line or a character). */
  push(bytes: Uint8Array): void;
  /** The next characters of the file, for a file given as text. */
  pushText(text: string): void;
  /** The file has ended: checks its last line, its last inference's sum, and that it had its two header lines. */
  end(): { epoch: bigint; entries: number };
}

const show = (s: string) => JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}…` : s);

export function createScoreFileReader(handlers: ScoreFileReaderHandlers = {}): ScoreFileReader {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const checker = createEntryChecker();
  let pending = '';
  let line = 0;
  let epoch: bigint | undefined;
  let entries = 0;
  let empty = true;

  function readLine(text: string): void {
    const n = ++line;
    if (n === 1 && text.charCodeAt(0) === 0xfeff) throw new ScoreFileError('starts with a byte-order mark', 1);
    if (text.includes('\r')) throw new ScoreFileError('contains a carriage return: lines end with "\\n" only', n);
    if (n === 1) {
      if (text !== SCORE_FILE_HEADER) throw new ScoreFileError(`expected the header ${show(SCORE_FILE_HEADER)}, got ${show(text)}`, 1);
      return;
    }
    if (n === 2) {
      const m = /^epoch (0|[1-9][0-9]*)$/.exec(text);
      if (!m) throw new ScoreFileError(`expected "epoch <decimal>", got ${show(text)}`, 2);
      epoch = BigInt(m[1]!);
      if (epoch > MAX_UINT256) throw new ScoreFileError(`epoch ${epoch} does not fit a uint256`, 2);
      handlers.onEpoch?.(epoch);
      return;
    }
    const f = text.split('\t');
    if (f.length !== 4) throw new ScoreFileError(`expected 4 tab-separated fields (requestId, contributionId, account, weight), got ${f.length}: ${show(text)}`, n);
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
    checker.check(entry, n);
    entries++;
    handlers.onEntry?.(entry, n);
  }

  function pushText(text: string): void {
    if (text.length > 0) empty = false;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      readLine(start === 0 && pending ? pending + text.slice(0, nl) : text.slice(start, nl));
      pending = '';
      start = nl + 1;
    }
    pending += text.slice(start);
    if (pending.length > MAX_LINE_CHARS) throw new ScoreFileError(`the line is longer than ${MAX_LINE_CHARS} characters, which no canonical line is: ${show(pending)}`, line + 1);
  }

  function decode(bytes?: Uint8Array): string {
    try {
      return bytes ? decoder.decode(bytes, { stream: true }) : decoder.decode();
    } catch {
      throw new ScoreFileError('not valid UTF-8');
    }
  }

  return {
    push: (bytes) => pushText(decode(bytes)),
    pushText,
    end() {
      const rest = decode();
      if (rest) pushText(rest);
      if (empty || pending !== '') throw new ScoreFileError('must end with a newline ("\\n")');
      if (epoch === undefined) throw new ScoreFileError(`expected "epoch <decimal>", got ""`, 2);
      checker.end();
      return { epoch, entries };
    },
  };
}
