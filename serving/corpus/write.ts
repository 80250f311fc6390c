// Writes the generated corpus to a directory: corpus.txt, documents.jsonl and manifest.json.
// CLI: npx tsx serving/corpus/write.ts --out <dir> [--seed 1] [--documents 9000]
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { encode } from 'gpt-tokenizer/encoding/r50k_base';
import { CorpusError } from './errors.ts';
import { CORPUS_VERSION, DOCUMENT_KINDS, generateCorpusDocuments, type CorpusOptions, type DocumentKind } from './generate.ts';
import { corpusStats, corpusText } from './stats.ts';

/** About 3.1 MB of text, 0.73M GPT-2 tokens: what the base model's training script uses. */
export const DEFAULT_DOCUMENTS = 9000;
export const DEFAULT_SEED = 1;

export interface CorpusFile {
  bytes: number;
  sha256: string;
}

/** manifest.json: enough to check a corpus was regenerated exactly. Holds no timestamps, so it is reproducible too. */
export interface CorpusManifest {
  version: number;
  seed: number;
  documents: number;
  /** Bytes, words and hash of corpus.txt. */
  bytes: number;
  words: number;
  distinctWords: number;
  sha256: string;
  /** GPT-2 BPE (r50k_base) tokens over all documents, not counting end-of-text separators. */
  gpt2Tokens: number;
  gpt2DistinctTokens: number;
  kinds: Partial<Record<DocumentKind, number>>;
  files: { 'corpus.txt': CorpusFile; 'documents.jsonl': CorpusFile };
  /** How documents are separated in corpus.txt. */
  separator: '\n\n';
  license: 'CC-BY-4.0';
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** Writes a file whole or not at all (temp file, then rename). */
async function writeAtomic(path: string, text: string): Promise<CorpusFile> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, path);
  return { bytes: Buffer.byteLength(text, 'utf8'), sha256: sha256(text) };
}

/** Generates the corpus and writes corpus.txt, documents.jsonl and manifest.json into `dir` (created if missing). */
export async function writeCorpus(dir: string, opts: CorpusOptions): Promise<CorpusManifest> {
  const docs = generateCorpusDocuments(opts);
  const texts = docs.map((d) => d.text);
  const stats = corpusStats(texts);
  const kinds: Partial<Record<DocumentKind, number>> = {};
  for (const k of DOCUMENT_KINDS) {
    const n = docs.filter((d) => d.kind === k).length;
    if (n) kinds[k] = n;
  }
  const tokenIds = new Set<number>();
  let gpt2Tokens = 0;
  for (const t of texts) {
    const ids = encode(t);
    gpt2Tokens += ids.length;
    for (const id of ids) tokenIds.add(id);
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (cause) {
    throw new CorpusError(`cannot create the corpus directory ${dir}`, { cause, details: String((cause as Error).message) });
  }
  const txt = await writeAtomic(join(dir, 'corpus.txt'), corpusText(texts));
  const jsonl = await writeAtomic(join(dir, 'documents.jsonl'), docs.map((d) => `${JSON.stringify({ kind: d.kind, text: d.text })}\n`).join(''));
  const manifest: CorpusManifest = {
    version: CORPUS_VERSION,
    seed: opts.seed,
    documents: stats.documents,
    bytes: txt.bytes,
    words: stats.words,
    distinctWords: stats.distinctWords,
    sha256: txt.sha256,
    gpt2Tokens,
    gpt2DistinctTokens: tokenIds.size,
    kinds,
    files: { 'corpus.txt': txt, 'documents.jsonl': jsonl },
    separator: '\n\n',
    license: 'CC-BY-4.0',
  };
  await writeAtomic(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

const USAGE = `usage: npx tsx serving/corpus/write.ts --out <dir> [--seed ${DEFAULT_SEED}] [--documents ${DEFAULT_DOCUMENTS}]
  --out DIR        where to write corpus.txt, documents.jsonl and manifest.json
  --seed N         generator seed, a non-negative integer (default ${DEFAULT_SEED})
  --documents N    number of documents (default ${DEFAULT_DOCUMENTS}, about 3 MB)
`;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        seed: { type: 'string', default: String(DEFAULT_SEED) },
        documents: { type: 'string', default: String(DEFAULT_DOCUMENTS) },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.out) {
    process.stderr.write(`--out is required\n${USAGE}`);
    return 2;
  }
  for (const name of ['seed', 'documents'] as const) {
    if (!/^\d+$/.test(values[name])) {
      process.stderr.write(`--${name} must be a non-negative integer, got "${values[name]}"\n`);
      return 2;
    }
  }
  const seed = Number(values.seed);
  const documents = Number(values.documents);
  const t0 = performance.now();
  try {
    const m = await writeCorpus(resolve(values.out), { seed, documents });
    const s = ((performance.now() - t0) / 1000).toFixed(1);
    process.stdout.write(`wrote ${m.documents} documents (${m.bytes} bytes, ${m.words} words, ${m.distinctWords} distinct, ${m.gpt2Tokens} GPT-2 tokens) to ${resolve(values.out)} in ${s} s; sha256 ${m.sha256}\n`);
    return 0;
  } catch (err) {
    if (err instanceof CorpusError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
