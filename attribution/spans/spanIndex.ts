// A span index on disk, opened lazily: opening reads only the header and description (so a process can
// open every datanet version's index at start), and the arrays are read and checked on the first query.
import { findSpans, type FindSpansOptions, type SpanMatch } from './findSpans.ts';
import type { SpanCorpus } from './spanCorpus.ts';
import { readSpanIndexBody, readSpanIndexHeader, writeSpanIndexFile, type SpanIndexHeader } from './spanIndexFile.ts';

export interface SpanIndex {
  file: string;
  /** The JSON description stored with the index. */
  description: Record<string, unknown>;
  tokens: number;
  rows: number;
  contributions: number;
  /** Size of the file. */
  bytes: number;
  /** 0x-prefixed SHA-256 of the file's content, from its header. */
  sha256: string;
  /** Whether the arrays have been read. */
  readonly loaded: boolean;
  /** Reads and checks the arrays (once; a failed read is tried again on the next call). */
  load(): Promise<SpanCorpus>;
  /** findSpans over this index, loading it first if needed. */
  findSpans(tokens: ArrayLike<number>, options?: FindSpansOptions): Promise<SpanMatch>;
}

/**
 * Opens the index in `file`: throws SpanIndexNotFoundError when there is none, SpanIndexCorruptError when
 * its header, size or description is wrong (and later, from load or findSpans, when its content is).
 */
export async function openSpanIndex(file: string): Promise<SpanIndex> {
  return lazyIndex(file, await readSpanIndexHeader(file), undefined);
}

/** Writes `corpus` to `file` (atomically) and opens it, already loaded with the arrays in memory. */
export async function saveSpanIndex(file: string, corpus: SpanCorpus, description: Record<string, unknown> = {}): Promise<SpanIndex> {
  const { sha256 } = await writeSpanIndexFile(file, corpus, description);
  const header = await readSpanIndexHeader(file);
  // Another writer may have replaced the file meanwhile (same inputs give the same bytes, but not
  // necessarily): then read what is there.
  return lazyIndex(file, header, header.sha256 === sha256 ? corpus : undefined);
}

function lazyIndex(file: string, header: SpanIndexHeader, preloaded: SpanCorpus | undefined): SpanIndex {
  let corpus = preloaded;
  let pending: Promise<SpanCorpus> | undefined;
  const load = (): Promise<SpanCorpus> => {
    if (corpus) return Promise.resolve(corpus);
    pending ??= readSpanIndexBody(file, header).then(
      (c) => (corpus = c),
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };
  return {
    file,
    description: header.description,
    tokens: header.tokens,
    rows: header.rows,
    contributions: header.contributions,
    bytes: header.bytes,
    sha256: header.sha256,
    get loaded() {
      return corpus !== undefined;
    },
    load,
    findSpans: async (tokens, options) => findSpans(await load(), tokens, options),
  };
}
