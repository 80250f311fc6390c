import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildTrimmedVocab,
  gpt2Tokenizer,
  readTokenizer,
  TokenizerError,
  trimmedTokenizer,
  writeTrimmedVocab,
  type Tokenizer,
} from './tokenizer.ts';

const BYTES = Array.from({ length: 256 }, (_, i) => i);
const EOS = 50256;

/** GPT-2's bytes_to_unicode order, written out from its definition: printable ranges first, then the rest ascending. */
function gpt2ByteOrder(): number[] {
  const order: number[] = [];
  const range = (a: number, b: number) => { for (let c = a; c <= b; c++) order.push(c); };
  range(0x21, 0x7e); // '!'..'~'
  range(0xa1, 0xac); // '¡'..'¬'
  range(0xae, 0xff); // '®'..'ÿ'
  for (let b = 0; b < 256; b++) if (!order.includes(b)) order.push(b);
  return order;
}
const BYTE_ORDER = gpt2ByteOrder();
const ID_OF_BYTE = new Map(BYTE_ORDER.map((b, id) => [b, id]));

/** A seeded generator (fast-check is not installed): mulberry32. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]) => xs[int(xs.length)]! };
}

/** Random well-formed Unicode text: words, whitespace, emoji, CJK, combining marks, BOMs, the EOS literal, any code point. */
function randomText(r: ReturnType<typeof rng>, maxPieces = 30): string {
  const pieces = [
    () => r.pick(['the', ' cat', 'Hello', ' world', "'s", ' 1234', 'ünïcödé', '  ', '\n', '\t', '\r\n', ' ']),
    () => r.pick(['😀', '👩‍👩‍👧', '🇫🇷', '𝔘𝔫𝔦', '🦀']),
    () => r.pick(['日本語', '漢字', '한국어', 'Ελληνικά', 'עברית', 'العربية', 'ไทย']),
    () => r.pick(['e\u0301', '\u0308', '\uFEFF', '\u200d', '\u0000', '\u007f']),
    () => '<|endoftext|>',
    () => {
      // any scalar value except surrogates
      let cp = r.int(0x110000);
      if (cp >= 0xd800 && cp <= 0xdfff) cp -= 0x800;
      return String.fromCodePoint(cp);
    },
  ];
  let s = '';
  const n = r.int(maxPieces);
  for (let i = 0; i < n; i++) s += r.pick(pieces)();
  return s;
}

function streamed(t: Tokenizer, ids: readonly number[]): string {
  const d = t.createDecoder();
  let out = '';
  for (const id of ids) out += d.push(id);
  return out + d.flush();
}

function errorOf(fn: () => unknown): TokenizerError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TokenizerError);
    return e as TokenizerError;
  }
  throw new Error('expected a TokenizerError, got none');
}

let gpt2: Tokenizer;
let bytesOnly: Tokenizer;
let dir: string;
beforeAll(() => {
  gpt2 = gpt2Tokenizer();
  bytesOnly = trimmedTokenizer([...BYTES, EOS]);
  dir = mkdtempSync(path.join(tmpdir(), 'tokenizer-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gpt2Tokenizer', () => {
  it('has GPT-2 vocabulary size and end-of-text token', () => {
    expect(gpt2.vocabSize).toBe(50257);
    expect(gpt2.eosToken).toBe(50256);
    expect(gpt2.decode([50256])).toBe('<|endoftext|>');
  });

  it('gives GPT-2\'s known encodings', () => {
    expect(gpt2.encode('Hello world')).toEqual([15496, 995]);
    expect(gpt2.encode('The quick brown fox')).toEqual([464, 2068, 7586, 21831]);
    expect(gpt2.encode(' the')).toEqual([262]);
    expect(gpt2.encode('\n')).toEqual([198]);
    expect(gpt2.encode('😀')).toEqual([47249, 222]);
    expect(gpt2.encode('')).toEqual([]);
    expect(gpt2.decode([15496, 995])).toBe('Hello world');
  });

  it('encodes the literal "<|endoftext|>" in input as plain text, never as the EOS token', () => {
    expect(gpt2.encode('<|endoftext|>')).toEqual([27, 91, 437, 1659, 5239, 91, 29]);
    const ids = gpt2.encode('a<|endoftext|>b <|endoftext|>');
    expect(ids).not.toContain(EOS);
    expect(gpt2.decode(ids)).toBe('a<|endoftext|>b <|endoftext|>');
    expect(gpt2.encode('<|endoftext|><|endoftext|>')).not.toContain(EOS);
  });

  it('has byte tokens 0–255 in the order of GPT-2\'s bytes_to_unicode (e.g. id 188 is byte 0x00)', () => {
    // Every code point up to U+07FF, and a sample of longer ones, spelled as the byte tokens derived from the
    // definition above, decodes back to itself: this pins every byte that can occur in UTF-8.
    const codePoints = [...Array.from({ length: 0x800 }, (_, i) => i), 0x800, 0x65e5, 0xfeff, 0xffff, 0x10000, 0x1f600, 0x10ffff];
    for (const cp of codePoints) {
      const ids = [...Buffer.from(String.fromCodePoint(cp), 'utf8')].map((b) => ID_OF_BYTE.get(b)!);
      expect(gpt2.decode(ids)).toBe(String.fromCodePoint(cp));
    }
    expect(bytesOnly.encode('\u0000 !~')).toEqual([188, 220, 0, 93]);
    // Bytes that never occur in UTF-8 decode as U+FFFD.
    for (const b of [0xc0, 0xc1, 0xf5, 0xff]) expect(gpt2.decode([ID_OF_BYTE.get(b)!])).toBe('\uFFFD');
  });

  it('round-trips random Unicode text', () => {
    const r = rng(1);
    for (let i = 0; i < 500; i++) {
      const s = randomText(r);
      expect(gpt2.decode(gpt2.encode(s))).toBe(s);
    }
  });

  it('keeps a leading byte-order mark and turns a lone surrogate into U+FFFD (it has no UTF-8 form)', () => {
    expect(gpt2.decode(gpt2.encode('\uFEFFhi'))).toBe('\uFEFFhi');
    expect(gpt2.decode(gpt2.encode('\uD800x'))).toBe('\uFFFDx');
  });

  it('refuses ids outside the vocabulary, naming them', () => {
    expect(errorOf(() => gpt2.decode([1, 50257])).message).toBe('token id 50257 at position 1 is not in the vocabulary\n  ids run from 0 to 50256');
    expect(errorOf(() => gpt2.decode([-1])).message).toMatch(/^token id -1 at position 0/);
    expect(errorOf(() => gpt2.decode([1.5])).message).toMatch(/^token id 1.5 at position 0/);
    expect(errorOf(() => gpt2.createDecoder().push(60000)).message).toMatch(/^token id 60000 is not in the vocabulary/);
  });
});

describe('stream decoder', () => {
  it('holds a character split across tokens until it is complete', () => {
    const d = gpt2.createDecoder();
    expect(d.push(47249)).toBe(''); // the first three bytes of 😀
    expect(d.push(222)).toBe('😀');
    expect(d.push(15496)).toBe('Hello');
    expect(d.flush()).toBe('');
  });

  it('flushes an incomplete tail as U+FFFD and can be reused', () => {
    const d = gpt2.createDecoder();
    expect(d.push(15496)).toBe('Hello');
    expect(d.push(47249)).toBe('');
    expect(d.flush()).toBe('\uFFFD');
    expect(d.push(995)).toBe(' world');
    expect(d.flush()).toBe('');
  });

  it('equals decode() for random id sequences over the whole vocabulary', () => {
    const r = rng(2);
    for (let i = 0; i < 2000; i++) {
      const ids = Array.from({ length: r.int(40) }, () => r.int(50257));
      expect(streamed(gpt2, ids)).toBe(gpt2.decode(ids));
    }
  });

  it('equals decode() for random sequences of byte tokens (mostly broken UTF-8)', () => {
    const r = rng(3);
    for (let i = 0; i < 2000; i++) {
      const ids = Array.from({ length: r.int(20) }, () => r.int(256));
      expect(streamed(gpt2, ids)).toBe(gpt2.decode(ids));
      expect(streamed(bytesOnly, ids)).toBe(bytesOnly.decode(ids));
    }
  });

  it('equals decode() and the text itself for emoji and CJK text, in both tokenizers', () => {
    const r = rng(4);
    const trimmed = trimmedTokenizer(buildTrimmedVocab(['日本語のテキスト 😀 emoji and text'], 400));
    for (let i = 0; i < 300; i++) {
      const s = randomText(r);
      for (const t of [gpt2, trimmed, bytesOnly]) expect(streamed(t, t.encode(s))).toBe(s);
    }
  });
});

describe('trimmedTokenizer', () => {
  it('maps kept GPT-2 tokens to their index in keep and spells the others as byte tokens', () => {
    const t = trimmedTokenizer([...BYTES, 262, EOS]);
    expect(t.vocabSize).toBe(258);
    expect(t.eosToken).toBe(257);
    expect(t.encode(' the the')).toEqual([256, 256]);
    // "Hello" is GPT-2 token 15496, not kept: its bytes H e l l o are byte tokens 39 68 75 75 78.
    expect(t.encode('Hello the')).toEqual([39, 68, 75, 75, 78, 256]);
    expect(t.decode([39, 68, 75, 75, 78, 256, 257])).toBe('Hello the<|endoftext|>');
    expect(t.encode('😀')).toEqual([...Buffer.from('😀')].map((b) => ID_OF_BYTE.get(b)!));
    expect(t.encode('<|endoftext|>')).not.toContain(257);
    expect(errorOf(() => t.decode([258])).message).toMatch(/^token id 258 at position 0 is not in the vocabulary\n {2}ids run from 0 to 257$/);
  });

  it('round-trips any text, including characters never seen when the vocabulary was built', () => {
    const keep = buildTrimmedVocab(['the cat sat on the mat', 'Hello world'], 300);
    const t = trimmedTokenizer(keep);
    const r = rng(5);
    for (let i = 0; i < 500; i++) {
      const s = randomText(r);
      const ids = t.encode(s);
      expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < t.vocabSize)).toBe(true);
      expect(t.decode(ids)).toBe(s);
    }
  });

  it('refuses a keep list without every byte token, without EOS, unsorted or out of range', () => {
    expect(errorOf(() => trimmedTokenizer([...BYTES.slice(1), EOS])).message).toMatch(/^trimmed vocabulary is invalid: byte token 0 is missing/);
    expect(errorOf(() => trimmedTokenizer(BYTES)).message).toMatch(/^trimmed vocabulary is invalid: <\|endoftext\|> \(50256\) is missing/);
    expect(errorOf(() => trimmedTokenizer([...BYTES, 300, 299, EOS])).message).toMatch(/keep\[257\] = 299 does not come after keep\[256\] = 300/);
    expect(errorOf(() => trimmedTokenizer([...BYTES, 300, 300, EOS])).message).toMatch(/keep\[257\] = 300 does not come after/);
    expect(errorOf(() => trimmedTokenizer([...BYTES, EOS, 50257])).message).toMatch(/keep\[257\] = 50257 is not a GPT-2 id/);
  });
});

describe('buildTrimmedVocab', () => {
  it('keeps the byte tokens, EOS and the most frequent tokens, ties by lower id, sorted', () => {
    // GPT-2 tokens: "the" 1169 ×1, " cat" 3797 ×2, " the" 262 ×2, " dog" 3290 ×1.
    const texts = ['the cat the cat the dog'];
    expect(gpt2.encode(texts[0]!)).toEqual([1169, 3797, 262, 3797, 262, 3290]);
    expect(buildTrimmedVocab(texts, 257)).toEqual([...BYTES, EOS]);
    expect(buildTrimmedVocab(texts, 258)).toEqual([...BYTES, 262, EOS]);
    expect(buildTrimmedVocab(texts, 259)).toEqual([...BYTES, 262, 3797, EOS]);
    expect(buildTrimmedVocab(texts, 260)).toEqual([...BYTES, 262, 1169, 3797, EOS]);
    expect(buildTrimmedVocab(texts, 1000)).toEqual([...BYTES, 262, 1169, 3290, 3797, EOS]);
  });

  it('counts over every text of an iterable, and never adds EOS from the literal text', () => {
    function* texts() {
      yield ' dog dog';
      yield ' dog <|endoftext|>';
      yield ' the';
    }
    expect(buildTrimmedVocab(texts(), 258)).toEqual([...BYTES, 3290, EOS]);
  });

  it('refuses a size below 257', () => {
    expect(errorOf(() => buildTrimmedVocab([], 256)).message).toMatch(/^a trimmed vocabulary of 256 tokens is impossible/);
  });
});

describe('readTokenizer / writeTrimmedVocab', () => {
  it('answers full GPT-2 when the model directory has no vocabulary file', () => {
    const modelDir = mkdtempSync(path.join(dir, 'full-'));
    expect(readTokenizer(modelDir).vocabSize).toBe(50257);
  });

  it('answers the trimmed tokenizer written by writeTrimmedVocab, atomically', () => {
    const modelDir = mkdtempSync(path.join(dir, 'trimmed-'));
    const keep = [...BYTES, 262, 995, EOS];
    const file = writeTrimmedVocab(modelDir, keep);
    expect(file).toBe(path.join(modelDir, 'tributary-vocab.json'));
    expect(readdirSync(modelDir)).toEqual(['tributary-vocab.json']);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ format: 'gpt2-trimmed', keep });
    const t = readTokenizer(modelDir);
    expect(t.vocabSize).toBe(259);
    expect(t.eosToken).toBe(258);
    expect(t.encode(' world the')).toEqual([257, 256]);
  });

  it('refuses a bad vocabulary file, naming it', () => {
    const modelDir = mkdtempSync(path.join(dir, 'bad-'));
    const file = path.join(modelDir, 'tributary-vocab.json');
    writeFileSync(file, '{"format":');
    expect(errorOf(() => readTokenizer(modelDir)).message).toMatch(new RegExp(`^cannot read the vocabulary file ${file}\\n`));
    writeFileSync(file, '{"format":"sentencepiece","keep":[]}');
    expect(errorOf(() => readTokenizer(modelDir)).message).toBe(`the vocabulary file ${file} is not {"format":"gpt2-trimmed","keep":[…]}\n  its format is "sentencepiece"`);
    writeFileSync(file, JSON.stringify({ format: 'gpt2-trimmed', keep: [...BYTES] }));
    expect(errorOf(() => readTokenizer(modelDir)).message).toMatch(new RegExp(`^the vocabulary file ${file} is invalid: <\\|endoftext\\|> \\(50256\\) is missing`));
    writeFileSync(file, JSON.stringify({ format: 'gpt2-trimmed', keep: 'all' }));
    expect(errorOf(() => readTokenizer(modelDir)).message).toMatch(/is invalid: keep is "all", not a list of ids/);
  });

  it('refuses to write an invalid keep list and writes nothing', () => {
    const modelDir = mkdtempSync(path.join(dir, 'nowrite-'));
    expect(errorOf(() => writeTrimmedVocab(modelDir, [1, 2, 3])).message).toMatch(/is invalid: byte token 0 is missing/);
    expect(readdirSync(modelDir)).toEqual([]);
  });
});

describe('encode speed', () => {
  it('encodes ~1 MB of English text losslessly at several MB/s', () => {
    // The demo datanets' English prose (whatever files they hold), numbered so repeats are not identical.
    const demo = path.join(import.meta.dirname, '../demo/datanets');
    const files = readdirSync(demo, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(txt|jsonl|md)$/.test(f)).sort();
    const sentences = files.map((f) => readFileSync(path.join(demo, f), 'utf8')).join('\n');
    expect(sentences.length).toBeGreaterThan(10_000);
    let text = '';
    for (let i = 0; text.length < 1_000_000; i++) text += `${i} ${sentences}`;
    const fresh = gpt2Tokenizer();
    const t0 = performance.now();
    const ids = fresh.encode(text);
    const seconds = (performance.now() - t0) / 1000;
    const mbPerSecond = Buffer.byteLength(text) / 1e6 / seconds;
    console.log(`gpt2 encode: ${(Buffer.byteLength(text) / 1e6).toFixed(2)} MB → ${ids.length} tokens in ${(seconds * 1000).toFixed(0)} ms (${mbPerSecond.toFixed(1)} MB/s)`);
    expect(fresh.decode(ids)).toBe(text);
    expect(mbPerSecond).toBeGreaterThan(1); // a guard against accidental quadratic work, not a benchmark
  });
});
