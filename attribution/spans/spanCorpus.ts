// The searchable form of one corpus (a datanet version's rows): every row's tokens followed by a
// separator, the suffix array of every token position, and the tables that map a position back to its
// row and contribution. Built once here; spanIndexFile.ts saves and loads exactly these arrays.
//
// The separator is the largest value of the token width (0xFFFF or 0xFFFFFFFF) and no row token may
// equal it. A query never contains it either (findSpans turns such tokens into non-matching ones), so a
// match stops at a row's end: no span crosses a row boundary. Suffixes starting at a separator are left
// out of the suffix array; as the largest symbol they sort last, so dropping them keeps the order.
import type { Address } from 'viem';
import { SpanIndexError } from './errors.ts';
import { sortTerminated } from './suffixArray.ts';

/** One row to index. `tokens` are the token ids of the row as the model trains on it. */
export interface SpanRow {
  contributionId: bigint;
  rowIndex: number;
  contributor: Address;
  /** False when an earlier contribution owns this row: it is searched, but earns nothing. */
  owned: boolean;
  tokens: Uint32Array | Uint16Array | readonly number[];
}

export interface SpanContribution {
  contributionId: bigint;
  contributor: Address;
}

export interface SpanCorpus {
  /** Rows' tokens in input order, each row followed by `separator`. */
  text: Uint16Array | Uint32Array;
  separator: number;
  /** Every token position of `text` (separators excluded), in lexicographic order of the suffixes there. */
  suffixArray: Uint32Array;
  /** rowStart[r] is the text position of row r's first token; rowStart[rows] = text.length. */
  rowStart: Uint32Array;
  /** Row r's index within its contribution. */
  rowIndex: Uint32Array;
  /** Row r's contribution, an index into `contributions`. */
  rowContribution: Uint32Array;
  /** 1 when row r is owned by its contribution. */
  rowOwned: Uint8Array;
  /** Distinct contributions, in order of first appearance (addresses in lower case, as ClickHouse gives them). */
  contributions: SpanContribution[];
}

/** Token ids must be below this (the suffix sort's bucket tables are as large as the alphabet). */
export const MAX_SPAN_TOKEN_ID = 2 ** 24 - 2;
/** At most this many tokens plus separators (positions are 32-bit and the sort's sentinel needs one more). */
export const MAX_SPAN_TEXT_LENGTH = 2 ** 31 - 2;

export interface SpanCorpusBuilder {
  add(row: SpanRow): void;
  /** Sorts the suffixes and answers the corpus; the builder cannot be used afterwards. */
  finish(): SpanCorpus;
}

/** Builds a corpus from rows added one at a time (rows may come from a stream). */
export function createSpanCorpusBuilder(): SpanCorpusBuilder {
  let text = new Uint32Array(1 << 16);
  let length = 0;
  let maxToken = -1;
  const rowStart: number[] = [];
  const rowIndex: number[] = [];
  const rowContribution: number[] = [];
  const rowOwned: number[] = [];
  const contributions: SpanContribution[] = [];
  const contributionOf = new Map<bigint, number>();
  let finished = false;

  const ensure = (extra: number) => {
    if (length + extra > MAX_SPAN_TEXT_LENGTH) {
      throw new SpanIndexError(`the corpus would hold ${length + extra} tokens and separators`, { details: `at most ${MAX_SPAN_TEXT_LENGTH}` });
    }
    if (length + extra <= text.length) return;
    const grown = new Uint32Array(Math.min(MAX_SPAN_TEXT_LENGTH, Math.max(text.length * 2, length + extra)));
    grown.set(text.subarray(0, length));
    text = grown;
  };

  return {
    add(row) {
      if (finished) throw new SpanIndexError('rows were added to a span corpus after finish()');
      const where = `row ${row.rowIndex} of contribution ${row.contributionId}`;
      if (typeof row.contributionId !== 'bigint' || row.contributionId < 0n || row.contributionId >= 2n ** 256n) {
        throw new SpanIndexError(`contribution id ${String(row.contributionId)} is not a uint256`);
      }
      if (!Number.isInteger(row.rowIndex) || row.rowIndex < 0 || row.rowIndex > 0xffffffff) {
        throw new SpanIndexError(`row index ${row.rowIndex} of contribution ${row.contributionId} is not an integer from 0 to 2^32 - 1`);
      }
      if (!/^0x[0-9a-fA-F]{40}$/.test(row.contributor)) throw new SpanIndexError(`contributor ${JSON.stringify(row.contributor)} of ${where} is not an address`);
      let c = contributionOf.get(row.contributionId);
      if (c === undefined) {
        c = contributions.length;
        contributionOf.set(row.contributionId, c);
        contributions.push({ contributionId: row.contributionId, contributor: row.contributor.toLowerCase() as Address });
      } else if (contributions[c]!.contributor.toLowerCase() !== row.contributor.toLowerCase()) {
        throw new SpanIndexError(`${where} names contributor ${row.contributor}, but an earlier row of it names ${contributions[c]!.contributor}`);
      }
      const tokens = row.tokens;
      ensure(tokens.length + 1);
      rowStart.push(length);
      for (let i = 0; i < tokens.length; i++) {
        const id = tokens[i]!;
        if (!Number.isInteger(id) || id < 0 || id > MAX_SPAN_TOKEN_ID) {
          throw new SpanIndexError(`token ${id} at position ${i} of ${where} is not a token id`, { details: `ids are integers from 0 to ${MAX_SPAN_TOKEN_ID}` });
        }
        if (id > maxToken) maxToken = id;
        text[length++] = id;
      }
      text[length++] = SEPARATOR_32; // becomes 0xFFFF in finish() when the tokens fit 16 bits
      rowIndex.push(row.rowIndex);
      rowContribution.push(c);
      rowOwned.push(row.owned ? 1 : 0);
    },

    finish() {
      if (finished) throw new SpanIndexError('finish() was called twice on one span corpus builder');
      finished = true;
      const rows = rowStart.length;
      const tokenCount = length - rows;
      // Symbols for the sort: token + 1, the separator above every token, and a final 0 sentinel.
      const separatorSymbol = maxToken + 2;
      const symbols = new Int32Array(length + 1);
      for (let i = 0; i < length; i++) symbols[i] = text[i] === SEPARATOR_32 ? separatorSymbol : text[i]! + 1;
      const sa = new Int32Array(length + 1);
      sortTerminated(symbols, sa, separatorSymbol + 1);
      // sa[0] is the sentinel; the separators are the last `rows` entries. Keep the token positions, in place.
      sa.copyWithin(0, 1, 1 + tokenCount);
      const suffixArray = new Uint32Array(sa.buffer, 0, tokenCount);

      const narrow = maxToken < 0xffff;
      const separator = narrow ? 0xffff : SEPARATOR_32;
      // Narrowing keeps every token (all below 0xFFFF) and turns 0xFFFFFFFF into 0xFFFF, the narrow separator.
      const stored = narrow ? Uint16Array.from(text.subarray(0, length)) : text.slice(0, length);
      return {
        text: stored,
        separator,
        suffixArray,
        rowStart: Uint32Array.from([...rowStart, length]),
        rowIndex: Uint32Array.from(rowIndex),
        rowContribution: Uint32Array.from(rowContribution),
        rowOwned: Uint8Array.from(rowOwned),
        contributions,
      };
    },
  };
}

const SEPARATOR_32 = 0xffffffff;

/** A corpus of the given rows. */
export function buildSpanCorpus(rows: Iterable<SpanRow>): SpanCorpus {
  const builder = createSpanCorpusBuilder();
  for (const row of rows) builder.add(row);
  return builder.finish();
}

/** The row that holds text position `pos` (a binary search over row starts). */
export function rowAt(corpus: Pick<SpanCorpus, 'rowStart'>, pos: number): number {
  const starts = corpus.rowStart;
  let lo = 0;
  let hi = starts.length - 1; // rows
  while (lo + 1 < hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid]! <= pos) lo = mid;
    else hi = mid;
  }
  return lo;
}
