import { describe, expect, it } from 'vitest';
import { keccak256, toHex } from 'viem';
import { canonicalBytes, canonicalJson, canonicalRow, decodeCanonicalJsonl, encodeCanonicalJsonl, rowHash } from './canonical.ts';
import { RowFormatError } from './errors.ts';
import type { Row } from './row.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('canonical encoding', () => {
  it('writes a plain-text row as {"text":…} and hashes those exact bytes with keccak256', () => {
    const row = { text: 'hello world' };
    expect(canonicalJson(row)).toBe('{"text":"hello world"}');
    expect(toHex(canonicalBytes(row))).toBe(toHex(utf8('{"text":"hello world"}')));
    expect(rowHash(row)).toBe(keccak256(utf8('{"text":"hello world"}')));
    // Pinned (computed with ethereum-cryptography's keccak), so any change to the encoding shows.
    expect(rowHash(row)).toBe('0x8247fcda4a39af767e0d0475ddc8b5e859625bc74cebd945c8a160194029cfcb');
  });

  it('sorts keys whatever order the row was built in', () => {
    expect(canonicalJson({ prompt: 'p', completion: 'c' })).toBe('{"completion":"c","prompt":"p"}');
    expect(canonicalJson({ completion: 'c', prompt: 'p' })).toBe('{"completion":"c","prompt":"p"}');
    expect(canonicalJson({ text: 't', label: 'l' })).toBe('{"label":"l","text":"t"}');
    expect(rowHash({ label: 'l', text: 't' })).toBe(rowHash({ text: 't', label: 'l' }));
    expect(rowHash({ label: 'l', text: 't' })).not.toBe(rowHash({ text: 'l', label: 't' }));
  });

  it('gives é as e + combining accent and as one precomposed character the same hash (NFC)', () => {
    const decomposed = { text: 'caf\u0065\u0301' };
    const precomposed = { text: 'caf\u00e9' };
    expect(decomposed.text).not.toBe(precomposed.text);
    expect(rowHash(decomposed)).toBe(rowHash(precomposed));
    expect(canonicalJson(decomposed)).toBe('{"text":"café"}');
    expect(canonicalBytes(decomposed)).toEqual(utf8('{"text":"caf\u00e9"}'));
    // Compatibility forms are NOT folded (NFC, not NFKC): the ligature ﬁ stays itself.
    expect(rowHash({ text: 'ﬁ' })).not.toBe(rowHash({ text: 'fi' }));
  });

  it('escapes only quotes, backslashes and control characters, writing other characters as UTF-8', () => {
    expect(canonicalJson({ text: 'a"b\\c\nd\te\u0001f/g<h>€😀' })).toBe('{"text":"a\\"b\\\\c\\nd\\te\\u0001f/g<h>€😀"}');
    expect(canonicalBytes({ text: '€' })).toEqual(new Uint8Array([...utf8('{"text":"'), 0xe2, 0x82, 0xac, ...utf8('"}')]));
  });

  it('keeps only the shape keys in canonicalRow, and refuses what is not a row', () => {
    expect(canonicalRow({ text: 'e\u0301' })).toEqual({ text: 'é' });
    expect(() => rowHash({ text: 'a', extra: 'b' } as unknown as Row)).toThrow(
      'not a row: unknown key "extra"; a row has exactly the keys {text}, {prompt, completion} or {text, label}',
    );
    expect(() => rowHash({ text: 1 } as unknown as Row)).toThrow('not a row: "text" must be a string, not number 1');
    expect(() => rowHash({ text: 'a\ud800' })).toThrow('not a row: "text" holds a lone UTF-16 surrogate');
  });
});

describe('canonical rows files', () => {
  it('round-trips: one canonical line per row, each line hashing to its row hash', () => {
    const rows: Row[] = [{ text: 'a\nb' }, { text: 'e\u0301' }, { text: '"quoted"' }];
    const bytes = encodeCanonicalJsonl(rows);
    const text = new TextDecoder().decode(bytes);
    expect(text).toBe('{"text":"a\\nb"}\n{"text":"é"}\n{"text":"\\"quoted\\""}\n');
    expect(decodeCanonicalJsonl(bytes)).toEqual(rows.map(canonicalRow));
    text
      .slice(0, -1)
      .split('\n')
      .forEach((line, i) => expect(keccak256(utf8(line))).toBe(rowHash(rows[i]!)));
  });

  it('refuses a file that is not exactly canonical, naming the line', () => {
    const err = (s: string) => {
      try {
        decodeCanonicalJsonl(utf8(s), 'rows');
      } catch (e) {
        expect(e).toBeInstanceOf(RowFormatError);
        return (e as RowFormatError).message;
      }
      throw new Error('expected a refusal');
    };
    expect(err('{"text":"a"}\n{"text": "b"}\n')).toBe('rows: line 2: not in canonical form\n  "{\\"text\\": \\"b\\"}"');
    expect(err('{"prompt":"p","completion":"c"}\n')).toBe('rows: line 1: not in canonical form\n  "{\\"prompt\\":\\"p\\",\\"completion\\":\\"c\\"}"');
    expect(err('{"text":"e\u0301"}\n')).toMatch(/^rows: line 1: not in canonical form/);
    expect(err('{"text":"a"}')).toBe('rows: does not end with a line feed');
    expect(err('')).toBe('rows: no rows');
    expect(err('{"text":"a"}\n\n')).toMatch(/^rows: line 2: not valid JSON/);
  });
});
