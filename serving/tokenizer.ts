// GPT-2's byte-level BPE (r50k_base, from `gpt-tokenizer`), and a trimmed vocabulary of it for the
// project's tiny base model.
//
// Every token stands for a string of bytes, not of characters: a multi-byte character can be split
// across tokens. So decoding goes through the bytes (UTF-8 decoded once, U+FFFD for invalid or
// incomplete sequences), and the stream decoder holds a split character back until it is complete.
//
// The literal text "<|endoftext|>" in input is encoded as plain text (`<`, `|`, `end`, `of`, `text`,
// `|`, `>`), never as the end-of-text token: a prompt must not be able to end the sequence, or fake a
// document boundary in training data. Only the engine emits `eosToken`.
//
// A trimmed vocabulary keeps a sorted subset of GPT-2's ids (model id i is GPT-2 id keep[i]): all 256
// byte tokens and <|endoftext|>, plus whatever else was chosen. Encoding runs GPT-2's BPE and spells
// every token that was not kept with the byte tokens of its bytes, so any text round-trips.
import { existsSync, readFileSync, renameSync, writeFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { GptEncoding } from 'gpt-tokenizer/GptEncoding';
import r50kRanks from 'gpt-tokenizer/bpeRanks/r50k_base';
import { TributaryError } from '../contracts/index.ts';

export interface StreamDecoder {
  /** Adds one token and answers the text completed by it (empty while a character is still split). */
  push(id: number): string;
  /** Answers whatever is held back, an incomplete character as U+FFFD, and starts afresh. */
  flush(): string;
}

export interface Tokenizer {
  vocabSize: number;
  eosToken: number;
  /** Text → token ids. "<|endoftext|>" in the text is plain text, never `eosToken`. */
  encode(text: string): number[];
  /** Token ids → text (`eosToken` reads as "<|endoftext|>"); throws TokenizerError for an id outside the vocabulary. */
  decode(ids: readonly number[]): string;
  /** Pushing ids one at a time and then flushing yields exactly decode() of them all. */
  createDecoder(): StreamDecoder;
}

/** A token id outside the vocabulary, a bad trimmed vocabulary, or a vocabulary file that cannot be read. */
export class TokenizerError extends TributaryError {
  override name = 'TokenizerError';
}

export const GPT2_VOCAB_SIZE = 50257;
export const GPT2_EOS_TOKEN = 50256;
export const GPT2_EOS_TEXT = '<|endoftext|>';
/** The file in a model directory that selects a trimmed vocabulary. */
export const TRIMMED_VOCAB_FILE = 'tributary-vocab.json';

// ---------------------------------------------------------------------------------------------------
// GPT-2

/** The bytes behind each GPT-2 token id, concatenated: token i is bytes[offsets[i] .. offsets[i + 1]). */
interface TokenBytes {
  bytes: Uint8Array;
  offsets: Uint32Array;
}

interface Gpt2Core {
  /** GPT-2 ids of the text, with special-token text treated as plain text. */
  encodeIds(text: string): number[];
  table: TokenBytes;
  /** byteToken[b] is the GPT-2 id of the one-byte token for byte b. */
  byteToken: Uint16Array;
}

/** The full GPT-2 tokenizer: 50257 tokens, eos = 50256. Build it once and share it (it takes ~50 ms). */
export function gpt2Tokenizer(): Tokenizer {
  const core = gpt2Core();
  return byteLevelTokenizer({
    vocabSize: GPT2_VOCAB_SIZE,
    eosToken: GPT2_EOS_TOKEN,
    encode: core.encodeIds,
    table: core.table,
  });
}

function gpt2Core(): Gpt2Core {
  // Our own instance (its merge cache is ours too), not the package's module-level one.
  const encoding = GptEncoding.getEncodingApi('r50k_base', () => r50kRanks);
  // An empty disallowed set with no allowed set: special-token text is neither refused nor turned into a special token.
  const plainText = { disallowedSpecial: new Set<string>() };
  const table = gpt2TokenBytes();
  return {
    encodeIds: (text) => encoding.encode(text, plainText),
    table,
    byteToken: byteTokens(table),
  };
}

// The package stores each rank as a string when its bytes are valid UTF-8 and as a byte array when not
// (a token can hold part of a character); this reads the bytes directly, which decoding to text would lose.
function gpt2TokenBytes(): TokenBytes {
  const ranks = r50kRanks as readonly (string | readonly number[] | undefined)[];
  const encoder = new TextEncoder();
  const pieces: Uint8Array[] = [];
  let total = 0;
  for (let id = 0; id < GPT2_VOCAB_SIZE; id++) {
    const rank = id === GPT2_EOS_TOKEN ? GPT2_EOS_TEXT : ranks[id];
    if (rank === undefined) throw new TokenizerError(`gpt-tokenizer's r50k_base has no token ${id}`, { details: 'the installed gpt-tokenizer does not ship GPT-2\'s vocabulary as expected' });
    const piece = typeof rank === 'string' ? encoder.encode(rank) : Uint8Array.from(rank);
    pieces.push(piece);
    total += piece.byteLength;
  }
  const bytes = new Uint8Array(total);
  const offsets = new Uint32Array(GPT2_VOCAB_SIZE + 1);
  for (let id = 0; id < GPT2_VOCAB_SIZE; id++) {
    bytes.set(pieces[id]!, offsets[id]!);
    offsets[id + 1] = offsets[id]! + pieces[id]!.byteLength;
  }
  return { bytes, offsets };
}

// GPT-2's first 256 ids are its one-byte tokens (in the order of its bytes_to_unicode table); checked
// here rather than assumed, since trimming relies on it.
function byteTokens(table: TokenBytes): Uint16Array {
  const byteToken = new Uint16Array(256).fill(0xffff);
  for (let id = 0; id < 256; id++) {
    const start = table.offsets[id]!;
    if (table.offsets[id + 1]! - start !== 1 || byteToken[table.bytes[start]!] !== 0xffff) {
      throw new TokenizerError(`GPT-2 token ${id} is not a distinct one-byte token`, { details: 'the installed gpt-tokenizer\'s r50k_base differs from GPT-2\'s vocabulary' });
    }
    byteToken[table.bytes[start]!] = id;
  }
  return byteToken;
}

// ---------------------------------------------------------------------------------------------------
// Trimmed vocabularies

/**
 * A tokenizer over a subset of GPT-2's vocabulary: model id i is GPT-2 id keep[i]. `keep` must be
 * sorted ascending without repeats and hold ids 0–255 (the byte tokens) and 50256 (<|endoftext|>,
 * which becomes eosToken = keep.length - 1). Tokens not kept are encoded as their bytes.
 */
export function trimmedTokenizer(keep: readonly number[]): Tokenizer {
  checkKeep(keep, 'trimmed vocabulary');
  const core = gpt2Core();
  const toModel = new Int32Array(GPT2_VOCAB_SIZE).fill(-1);
  keep.forEach((gpt2Id, modelId) => (toModel[gpt2Id] = modelId));
  // Byte tokens are ids 0–255 in both vocabularies (keep starts with them), so a byte's model id is its GPT-2 id.
  const { bytes, offsets } = core.table;
  const byteToken = core.byteToken;
  const encode = (text: string): number[] => {
    const ids = core.encodeIds(text);
    const out: number[] = [];
    for (const id of ids) {
      const m = toModel[id]!;
      if (m >= 0) {
        out.push(m);
        continue;
      }
      for (let at = offsets[id]!, end = offsets[id + 1]!; at < end; at++) out.push(byteToken[bytes[at]!]!);
    }
    return out;
  };
  // The model's table: model id i's bytes are GPT-2 token keep[i]'s.
  const modelOffsets = new Uint32Array(keep.length + 1);
  keep.forEach((gpt2Id, i) => (modelOffsets[i + 1] = modelOffsets[i]! + offsets[gpt2Id + 1]! - offsets[gpt2Id]!));
  const modelBytes = new Uint8Array(modelOffsets[keep.length]!);
  keep.forEach((gpt2Id, i) => modelBytes.set(bytes.subarray(offsets[gpt2Id]!, offsets[gpt2Id + 1]!), modelOffsets[i]!));
  return byteLevelTokenizer({
    vocabSize: keep.length,
    eosToken: keep.length - 1,
    encode,
    table: { bytes: modelBytes, offsets: modelOffsets },
  });
}

/**
 * The vocabulary for a small model trained on `texts`: the 256 byte tokens, <|endoftext|>, then the
 * GPT-2 tokens most frequent in the texts (ties: lower id first) up to `maxSize` ids in all; sorted.
 */
export function buildTrimmedVocab(texts: Iterable<string>, maxSize: number): number[] {
  if (!Number.isSafeInteger(maxSize) || maxSize < 257) {
    throw new TokenizerError(`a trimmed vocabulary of ${maxSize} tokens is impossible`, { details: 'it needs at least 257: the 256 byte tokens and <|endoftext|>' });
  }
  const core = gpt2Core();
  const counts = new Float64Array(GPT2_VOCAB_SIZE);
  for (const text of texts) for (const id of core.encodeIds(text)) counts[id]!++;
  const candidates: number[] = [];
  for (let id = 256; id < GPT2_EOS_TOKEN; id++) if (counts[id]! > 0) candidates.push(id);
  candidates.sort((a, b) => counts[b]! - counts[a]! || a - b);
  const keep = Array.from({ length: 256 }, (_, i) => i);
  keep.push(...candidates.slice(0, maxSize - 257).sort((a, b) => a - b), GPT2_EOS_TOKEN);
  return keep;
}

/**
 * The tokenizer of a model directory: the trimmed vocabulary in `modelDir/tributary-vocab.json`
 * (`{"format":"gpt2-trimmed","keep":[…]}`) when that file exists, else full GPT-2.
 */
export function readTokenizer(modelDir: string): Tokenizer {
  const file = path.join(modelDir, TRIMMED_VOCAB_FILE);
  if (!existsSync(file)) return gpt2Tokenizer();
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new TokenizerError(`cannot read the vocabulary file ${file}`, { cause, details: (cause as Error).message });
  }
  const doc = parsed as { format?: unknown; keep?: unknown } | null;
  if (typeof doc !== 'object' || doc === null || doc.format !== 'gpt2-trimmed') {
    throw new TokenizerError(`the vocabulary file ${file} is not {"format":"gpt2-trimmed","keep":[…]}`, { details: `its format is ${JSON.stringify(doc?.format)}` });
  }
  checkKeep(doc.keep, `the vocabulary file ${file}`);
  return trimmedTokenizer(doc.keep);
}

/** Writes `modelDir/tributary-vocab.json` atomically (after checking `keep`) and answers its path. */
export function writeTrimmedVocab(modelDir: string, keep: readonly number[]): string {
  const file = path.join(modelDir, TRIMMED_VOCAB_FILE);
  checkKeep(keep, `the vocabulary for ${file}`);
  const temp = path.join(modelDir, `.${TRIMMED_VOCAB_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, `${JSON.stringify({ format: 'gpt2-trimmed', keep })}\n`, { flag: 'wx', flush: true });
    renameSync(temp, file);
  } catch (cause) {
    try {
      unlinkSync(temp);
    } catch {
      // never created
    }
    throw new TokenizerError(`cannot write the vocabulary file ${file}`, { cause, details: (cause as Error).message });
  }
  return file;
}

function checkKeep(keep: unknown, what: string): asserts keep is readonly number[] {
  const fail = (problem: string): never => {
    throw new TokenizerError(`${what} is invalid: ${problem}`, { details: 'keep must be GPT-2 ids, ascending, holding 0–255 (the byte tokens) and 50256 (<|endoftext|>)' });
  };
  if (!Array.isArray(keep)) fail(`keep is ${JSON.stringify(keep)?.slice(0, 60)}, not a list of ids`);
  const ids = keep as unknown[];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= GPT2_VOCAB_SIZE) fail(`keep[${i}] = ${JSON.stringify(id)} is not a GPT-2 id (0–50256)`);
    if (i > 0 && (id as number) <= (ids[i - 1] as number)) fail(`keep[${i}] = ${id} does not come after keep[${i - 1}] = ${ids[i - 1]}`);
  }
  for (let b = 0; b < 256; b++) if (ids[b] !== b) fail(`byte token ${b} is missing`);
  if (ids[ids.length - 1] !== GPT2_EOS_TOKEN) fail('<|endoftext|> (50256) is missing');
}

// ---------------------------------------------------------------------------------------------------
// Decoding, shared by both vocabularies

function byteLevelTokenizer(spec: { vocabSize: number; eosToken: number; encode: (text: string) => number[]; table: TokenBytes }): Tokenizer {
  const { vocabSize, table } = spec;
  const { bytes, offsets } = table;
  const checkId = (id: number, where: string): void => {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new TokenizerError(`token id ${id}${where} is not in the vocabulary`, { details: `ids run from 0 to ${vocabSize - 1}` });
    }
  };
  // ignoreBOM: a leading U+FEFF is text like any other, not a marker to strip.
  const newTextDecoder = () => new TextDecoder('utf-8', { ignoreBOM: true });
  return {
    vocabSize,
    eosToken: spec.eosToken,
    encode: spec.encode,
    decode(ids) {
      let length = 0;
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        checkId(id, ` at position ${i}`);
        length += offsets[id + 1]! - offsets[id]!;
      }
      const out = new Uint8Array(length);
      let at = 0;
      for (const id of ids) {
        out.set(bytes.subarray(offsets[id]!, offsets[id + 1]!), at);
        at += offsets[id + 1]! - offsets[id]!;
      }
      return newTextDecoder().decode(out);
    },
    createDecoder() {
      const decoder = newTextDecoder();
      return {
        push(id) {
          checkId(id, '');
          return decoder.decode(bytes.subarray(offsets[id]!, offsets[id + 1]!), { stream: true });
        },
        flush: () => decoder.decode(),
      };
    },
  };
}
