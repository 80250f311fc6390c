// The span index of a published datanet version: its rows tokenized exactly as the trainer sees them
// (serving's toExample: prompt tokens, target tokens, end-of-text; never truncated here, since the whole
// row is contributed text), so that spans of a model's output match its training text. One file per
// (datanet, version, tokenizer) under a directory the caller chooses, built once and reused.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { DatanetVersion } from '../../schema/index.ts';
import { PROMPT_FORMAT, toExample, type Tokenizer } from '../../serving/index.ts';
import { SpanIndexCorruptError, SpanIndexError, SpanIndexNotFoundError } from './errors.ts';
import { createSpanCorpusBuilder, type SpanRow } from './spanCorpus.ts';
import { openSpanIndex, saveSpanIndex, type SpanIndex } from './spanIndex.ts';

export type SpanTokenizer = Pick<Tokenizer, 'encode' | 'eosToken'>;

export interface VersionSpanIndexParameters {
  version: Pick<DatanetVersion, 'datanetId' | 'version' | 'root' | 'rows'>;
  tokenizer: SpanTokenizer;
  /**
   * Names the tokenizer's vocabulary, since ids mean nothing without it: e.g. the base model's
   * `vocabSha256` (a trimmed vocabulary) or "gpt2". Letters, digits, `.`, `_`, `-`; at most 80.
   */
  tokenizerKey: string;
  /** Directory holding the indexes. */
  dir: string;
}

/** Where the index of (datanet, version, tokenizer) lives under `dir`. */
export function versionSpanIndexFile(dir: string, p: { datanetId: bigint; version: bigint; tokenizerKey: string }): string {
  if (!/^[A-Za-z0-9._-]{1,80}$/.test(p.tokenizerKey) || p.tokenizerKey.startsWith('.')) {
    throw new SpanIndexError(`tokenizer key ${JSON.stringify(p.tokenizerKey)} cannot name a file`, { details: 'use letters, digits, ".", "_" and "-" (at most 80, not starting with ".")' });
  }
  return path.join(dir, `datanet-${p.datanetId}`, `version-${p.version}.${p.tokenizerKey}.spans`);
}

/** The version's rows as span rows, tokenized as training text. */
export async function* versionSpanRows(version: Pick<DatanetVersion, 'rows'>, tokenizer: SpanTokenizer): AsyncGenerator<SpanRow> {
  for await (const r of version.rows()) {
    let tokens: number[];
    try {
      tokens = toExample(r.row, tokenizer, Number.MAX_SAFE_INTEGER).tokens;
    } catch (cause) {
      throw new SpanIndexError(`row ${r.rowIndex} of contribution ${r.contributionId} cannot be tokenized`, { cause, details: (cause as Error).message });
    }
    yield { contributionId: r.contributionId, rowIndex: r.rowIndex, contributor: r.contributor, owned: r.owned, tokens };
  }
}

/** Builds the version's index from its rows and saves it (replacing any file there); answers it loaded. */
export async function buildVersionSpanIndex(p: VersionSpanIndexParameters): Promise<SpanIndex> {
  const file = versionSpanIndexFile(p.dir, { datanetId: p.version.datanetId, version: p.version.version, tokenizerKey: p.tokenizerKey });
  const builder = createSpanCorpusBuilder();
  for await (const row of versionSpanRows(p.version, p.tokenizer)) builder.add(row);
  const corpus = builder.finish();
  await mkdir(path.dirname(file), { recursive: true });
  return saveSpanIndex(file, corpus, describe(p));
}

/**
 * The version's index: the saved one when it was built from this version (same root, tokenizer key and
 * text format), opened lazily; otherwise built now and saved.
 */
export async function versionSpanIndex(p: VersionSpanIndexParameters): Promise<SpanIndex> {
  const file = versionSpanIndexFile(p.dir, { datanetId: p.version.datanetId, version: p.version.version, tokenizerKey: p.tokenizerKey });
  try {
    const index = await openSpanIndex(file);
    const want = describe(p);
    if (Object.entries(want).every(([k, v]) => index.description[k] === v)) return index;
  } catch (error) {
    // A missing or damaged file is rebuilt; anything else (permissions, I/O) is the caller's to see.
    if (!(error instanceof SpanIndexNotFoundError || error instanceof SpanIndexCorruptError)) throw error;
  }
  return buildVersionSpanIndex(p);
}

function describe(p: VersionSpanIndexParameters): Record<string, string> {
  return {
    kind: 'datanet-version',
    datanetId: p.version.datanetId.toString(),
    version: p.version.version.toString(),
    root: p.version.root,
    tokenizerKey: p.tokenizerKey,
    textFormat: PROMPT_FORMAT,
  };
}
