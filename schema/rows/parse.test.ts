import { describe, expect, it } from 'vitest';
import { rowHash } from './canonical.ts';
import { RowFormatError } from './errors.ts';
import { DEFAULT_ROW_LIMITS, formatOfFilename, parseRows, type RowLimits } from './parse.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);
const parse = (content: string | Uint8Array, filename: string, limits: RowLimits = DEFAULT_ROW_LIMITS) =>
  parseRows({ bytes: typeof content === 'string' ? utf8(content) : content, filename, limits });

/** The RowFormatError that parsing throws (fails the test if it parses). */
function parseError(content: string | Uint8Array, filename: string, limits?: RowLimits): RowFormatError {
  try {
    parse(content, filename, limits);
  } catch (e) {
    expect(e).toBeInstanceOf(RowFormatError);
    return e as RowFormatError;
  }
  throw new Error(`expected ${filename} to be refused`);
}
const where = (e: RowFormatError) => ({ line: e.line, reason: e.reason, excerpt: e.excerpt });

describe('parseRows() on plain text', () => {
  it('makes one {text} row per non-blank line, stripping trailing whitespace and CR, keeping leading whitespace', () => {
    const r = parse('first line  \r\n\r\n   \n  indented\t\r\nlast', 'notes.txt');
    expect(r).toEqual({
      format: 'text',
      shape: 'text',
      rows: [{ text: 'first line' }, { text: '  indented' }, { text: 'last' }],
      lines: [1, 4, 5],
    });
  });

  it('drops a leading byte order mark', () => {
    const r = parse('\ufeffhello\nworld\n', 'bom.txt');
    expect(r.rows).toEqual([{ text: 'hello' }, { text: 'world' }]);
  });

  it('reads .md the same way, and extensions in any case', () => {
    expect(parse('# Title\n\n- item\n', 'README.MD').rows).toEqual([{ text: '# Title' }, { text: '- item' }]);
    expect(formatOfFilename('a.TXT')).toBe('text');
    expect(formatOfFilename('a.tar.csv')).toBe('csv');
    expect(formatOfFilename('a.JsonL')).toBe('jsonl');
    expect(formatOfFilename('a.json')).toBeUndefined();
    expect(formatOfFilename('csv')).toBeUndefined();
  });

  it('refuses an empty file, and one of only blank lines, with "no rows"', () => {
    for (const content of ['', '\n\n', ' \r\n\t\n', '\ufeff']) {
      const e = parseError(content, 'empty.txt');
      expect(e.message).toBe('empty.txt: no rows: the file has no non-blank lines');
      expect(e.line).toBeUndefined();
    }
  });

  it('refuses an unsupported extension before reading the content', () => {
    const e = parseError('{"text":"a"}', 'data.json');
    expect(e.message).toBe('data.json: unsupported file type; use .txt, .md, .csv or .jsonl');
    expect(e.retryable).toBe(false);
  });

  it('refuses a NUL character with its line', () => {
    expect(where(parseError('ok\nbin\0ary\n', 'x.txt'))).toEqual({
      line: 2,
      reason: 'a NUL character (is this a binary file?)',
      excerpt: 'bin\0ary',
    });
  });
});

describe('parseRows() on invalid UTF-8', () => {
  const bytes = (...parts: (string | number[])[]) =>
    new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...utf8(p)] : p)));

  it('names the line and the byte where the invalid sequence starts', () => {
    const e = parseError(bytes('good\n\nnaïve\nab', [0xc3, 0x28], 'cd\n'), 'bad.txt');
    expect(e.line).toBe(4);
    expect(e.reason).toBe('not valid UTF-8: invalid byte sequence at byte 3 of the line (0xc3 0x28); save the file as UTF-8');
    expect(e.excerpt).toBe('ab\ufffd(cd');
    expect(e.message).toBe(`bad.txt: line 4: ${e.reason}\n  "ab\ufffd(cd"`);
  });

  it('locates a stray continuation byte, an invalid lead byte, an overlong form, an encoded surrogate and a cut-off sequence', () => {
    const cases: [Uint8Array, number, number][] = [
      // [file, line, byte of the line]
      [bytes('x\né', [0x80], '\n'), 2, 3], // é is 2 bytes, then a continuation with no lead
      [bytes([0xff], 'abc'), 1, 1],
      [bytes('a\nb\n', [0xc0, 0xaf]), 3, 1], // overlong "/"
      [bytes('z\n', 'ok', [0xed, 0xa0, 0x80]), 2, 3], // U+D800 encoded
      [bytes('a\n€', [0xe2, 0x82]), 2, 4], // cut off at the end of the file
      [bytes('a\n', [0xe2, 0x82], '\nb'), 2, 1], // cut off at the end of a line
    ];
    for (const [file, line, byte] of cases) {
      const e = parseError(file, 'f.csv');
      expect({ line: e.line, byte: /at byte (\d+) of the line/.exec(e.reason)?.[1] }).toEqual({ line, byte: String(byte) });
    }
  });

  it('refuses invalid UTF-8 in every format, before parsing', () => {
    for (const name of ['a.txt', 'a.csv', 'a.jsonl']) {
      expect(parseError(bytes('text\n', [0xfe], '\n'), name).line).toBe(2);
    }
  });
});

describe('parseRows() on CSV', () => {
  it('reads a text column', () => {
    expect(parse('text\nhello\nworld\n', 'a.csv')).toEqual({
      format: 'csv',
      shape: 'text',
      rows: [{ text: 'hello' }, { text: 'world' }],
      lines: [2, 3],
    });
  });

  it('reads prompt and completion in any column order, header names trimmed and in any case', () => {
    const r = parse(' Completion ,PROMPT\n4,2+2=\n', 'a.csv');
    expect(r.shape).toBe('prompt-completion');
    expect(r.rows).toEqual([{ prompt: '2+2=', completion: '4' }]);
  });

  it('reads text and label; a numeric label is the string it is written as', () => {
    const r = parse('text,label\nwin a prize,spam\nlunch?,0\n', 'a.csv');
    expect(r.shape).toBe('text-label');
    expect(r.rows).toEqual([
      { text: 'win a prize', label: 'spam' },
      { text: 'lunch?', label: '0' },
    ]);
  });

  it('reads quoted fields with commas, doubled quotes and line breaks, and numbers lines from where each record starts', () => {
    const csv = 'prompt,completion\r\n"a, b","say ""hi"""\r\n"line 1\r\nline 2\nline 3",x\r\n\r\nlast," "" """\r\n';
    const r = parse(csv, 'a.csv');
    expect(r.rows).toEqual([
      { prompt: 'a, b', completion: 'say "hi"' },
      { prompt: 'line 1\nline 2\nline 3', completion: 'x' },
      { prompt: 'last', completion: ' " "' },
    ]);
    expect(r.lines).toEqual([2, 3, 7]);
  });

  it('gives the same rows for LF and CRLF files, with or without a final line break, with a BOM', () => {
    const lf = 'text,label\n"multi\nline",a\nplain,b\n';
    const expected = parse(lf, 'a.csv').rows;
    expect(parse(lf.replaceAll('\n', '\r\n'), 'a.csv').rows).toEqual(expected);
    expect(parse(lf.trimEnd(), 'a.csv').rows).toEqual(expected);
    expect(parse(`\ufeff${lf}`, 'a.csv').rows).toEqual(expected);
    expect(expected).toEqual([
      { text: 'multi\nline', label: 'a' },
      { text: 'plain', label: 'b' },
    ]);
  });

  it('refuses a header that names no row shape, or an extra column', () => {
    expect(where(parseError('question,answer\na,b\n', 'a.csv'))).toEqual({
      line: 1,
      reason: 'the first line must be a header naming the columns text, or prompt and completion, or text and label; found "question", "answer"',
      excerpt: 'question,answer',
    });
    expect(parseError('text,label,source\na,b,c\n', 'a.csv').line).toBe(1);
    expect(parseError('hello world\n', 'a.csv').reason).toMatch(/^the first line must be a header/);
    expect(where(parseError('text,Text\na,b\n', 'a.csv'))).toEqual({ line: 1, reason: 'the header names the column "text" twice', excerpt: 'text,Text' });
  });

  it('refuses a header with no records with "no rows"', () => {
    expect(parseError('text,label\n\n', 'a.csv').message).toBe('a.csv: no rows: the file has no non-blank lines');
  });

  it('refuses a record with the wrong number of fields, naming its line', () => {
    expect(where(parseError('text,label\na,b\n"x\ny",z,extra\n', 'a.csv'))).toEqual({
      line: 3,
      reason: '3 fields, but the header on line 1 has 2',
      excerpt: 'x\ny,z,extra',
    });
    expect(parseError('text,label\nonly\n', 'a.csv').reason).toBe('1 field, but the header on line 1 has 2');
  });

  it('refuses broken quoting with the line where it goes wrong', () => {
    expect(where(parseError('text\nok\n"never\nclosed\n', 'a.csv'))).toEqual({
      line: 3,
      reason: 'a quoted field is never closed (a " is missing)',
      excerpt: '"never',
    });
    expect(where(parseError('text\nsay "hi"\n', 'a.csv'))).toEqual({
      line: 2,
      reason: 'a quote inside an unquoted field; put the whole field in quotes and write each quote in it as ""',
      excerpt: 'say "hi"',
    });
    expect(where(parseError('text\n"a\nb"c\n', 'a.csv'))).toEqual({
      line: 3,
      reason: 'unexpected "c" after the closing quote of a field; a quoted field ends at a comma or the end of the line',
      excerpt: 'b"c',
    });
    expect(parseError('text\na\rb\n', 'a.csv').reason).toBe(
      'a carriage return inside an unquoted field; quote the field or end lines with LF or CRLF',
    );
  });

  it('refuses an empty or blank field, and a trailing comma that makes one', () => {
    expect(where(parseError('text,label\na,\n', 'a.csv'))).toEqual({ line: 2, reason: '"label" is empty', excerpt: 'a,' });
    expect(parseError('prompt,completion\n"  ",x\n', 'a.csv').reason).toBe('"prompt" is empty');
    expect(parseError('text\na,\n', 'a.csv').reason).toBe('2 fields, but the header on line 1 has 1');
  });
});

describe('parseRows() on JSONL', () => {
  it('reads each shape, with keys in any order and blank lines and CRLF between', () => {
    expect(parse('{"text":"a"}\r\n\r\n  \n{"text":"b"}', 'a.jsonl')).toEqual({
      format: 'jsonl',
      shape: 'text',
      rows: [{ text: 'a' }, { text: 'b' }],
      lines: [1, 4],
    });
    expect(parse('{"completion":"4","prompt":"2+2="}\n{ "prompt" : "3+3=", "completion" : "6" }\n', 'a.jsonl').rows).toEqual([
      { prompt: '2+2=', completion: '4' },
      { prompt: '3+3=', completion: '6' },
    ]);
    expect(parse('{"label":"pos","text":"great"}\n', 'a.jsonl').shape).toBe('text-label');
  });

  it('turns an integer label into its decimal string, so it is the same row as in a CSV file', () => {
    const j = parse('{"text":"x","label":1}\n{"text":"y","label":-20}\n', 'a.jsonl').rows;
    expect(j).toEqual([
      { text: 'x', label: '1' },
      { text: 'y', label: '-20' },
    ]);
    const c = parse('text,label\nx,1\n', 'a.csv').rows;
    expect(rowHash(j[0]!)).toBe(rowHash(c[0]!));
  });

  it('refuses a line of the wrong shape, naming its line', () => {
    expect(where(parseError('{"text":"a"}\n{"prompt":"b"}\n', 'a.jsonl'))).toEqual({
      line: 2,
      reason: 'keys "prompt" are not a row shape; a row has exactly the keys {text}, {prompt, completion} or {text, label}',
      excerpt: '{"prompt":"b"}',
    });
    expect(where(parseError('\n{"text":"a","source":"web"}\n', 'a.jsonl'))).toEqual({
      line: 2,
      reason: 'unknown key "source"; a row has exactly the keys {text}, {prompt, completion} or {text, label}',
      excerpt: '{"text":"a","source":"web"}',
    });
    expect(parseError('{}\n', 'a.jsonl').reason).toBe('keys none are not a row shape; a row has exactly the keys {text}, {prompt, completion} or {text, label}');
    expect(parseError('["a"]\n', 'a.jsonl').reason).toBe('a row must be a JSON object with the keys {text}, {prompt, completion} or {text, label}');
    expect(parseError('"just text"\n', 'a.jsonl').line).toBe(1);
  });

  it('refuses mixed shapes in one file', () => {
    expect(where(parseError('{"text":"a"}\n{"text":"b","label":"x"}\n', 'a.jsonl'))).toEqual({
      line: 2,
      reason: 'this row is {text, label} but the row on line 1 is {text}; one file holds one shape',
      excerpt: '{"text":"b","label":"x"}',
    });
  });

  it('refuses non-string values, non-integer labels, empty values and lone surrogates', () => {
    expect(parseError('{"text":5}\n', 'a.jsonl').reason).toBe('"text" must be a string, not number 5');
    expect(parseError('{"prompt":"a","completion":null}\n', 'a.jsonl').reason).toBe('"completion" must be a string, not null');
    expect(parseError('{"text":"a","label":1.5}\n', 'a.jsonl').reason).toBe('"label" must be a string or an integer, not 1.5');
    expect(parseError('{"text":"a","label":true}\n', 'a.jsonl').reason).toBe('"label" must be a string, not boolean true');
    expect(parseError('{"text":"a","label":9007199254740993}\n', 'a.jsonl').reason).toBe('"label" must be a string or an integer, not 9007199254740992');
    expect(parseError('{"text":" \\n "}\n', 'a.jsonl').reason).toBe('"text" is empty');
    expect(parseError('{"text":"a\\ud800b"}\n', 'a.jsonl').reason).toBe('"text" holds a lone UTF-16 surrogate (a \\uD8xx escape without its pair)');
    // A proper pair is fine.
    expect(parse('{"text":"\\ud83d\\ude00"}\n', 'a.jsonl').rows).toEqual([{ text: '😀' }]);
  });

  it('refuses a line that is not JSON, naming its line', () => {
    const e = parseError('{"text":"a"}\n{"text": "b",}\n', 'a.jsonl');
    expect(e.line).toBe(2);
    expect(e.reason).toMatch(/^not valid JSON \(.+\); each line holds one JSON object$/);
    expect(e.excerpt).toBe('{"text": "b",}');
  });
});

describe('parseRows() limits', () => {
  const limits = (over: Partial<RowLimits>): RowLimits => ({ ...DEFAULT_ROW_LIMITS, ...over });

  it('refuses a file over maxFileBytes, without a line', () => {
    const e = parseError('a\nb\n', 'a.txt', limits({ maxFileBytes: 3 }));
    expect(e.message).toBe('a.txt: file is 4 bytes, over the limit of 3');
    expect(parse('a\nb', 'a.txt', limits({ maxFileBytes: 3 })).rows).toHaveLength(2);
  });

  it('measures a row in bytes of its canonical encoding and refuses one over maxRowBytes', () => {
    // {"text":"é"} is 13 bytes: 12 characters, é taking two.
    expect(parse('é\n', 'a.txt', limits({ maxRowBytes: 13 })).rows).toEqual([{ text: 'é' }]);
    expect(where(parseError('a\né\n', 'a.txt', limits({ maxRowBytes: 12 })))).toEqual({
      line: 2,
      reason: 'row is 13 bytes in canonical form, over the limit of 12',
      excerpt: 'é',
    });
  });

  it('refuses more than maxRows rows at the first row too many', () => {
    expect(parse('a\n\nb\n', 'a.txt', limits({ maxRows: 2 })).rows).toHaveLength(2);
    expect(where(parseError('a\n\nb\nc\nd\n', 'a.txt', limits({ maxRows: 2 })))).toEqual({
      line: 4,
      reason: 'more than 2 rows, the limit for one file',
      excerpt: 'c',
    });
  });

  it('refuses limits that are not positive integers', () => {
    expect(() => parse('a', 'a.txt', limits({ maxRows: 0 }))).toThrow('limits.maxRows must be a positive integer, got 0');
  });

  it('cuts long excerpts', () => {
    const e = parseError(`text\n${'x'.repeat(200)}"\n`, 'a.csv');
    expect(e.excerpt).toBe(`${'x'.repeat(80)}…`);
  });

  it('parses a 10 MB file of 100,000 rows within the default limits', () => {
    const line = 'word '.repeat(7).trim();
    const rows = Array.from({ length: 100_000 }, (_, i) => JSON.stringify({ prompt: `${i} ${line}`, completion: line })).join('\n');
    expect(rows.length).toBeGreaterThan(10_000_000);
    expect(rows.length).toBeLessThan(DEFAULT_ROW_LIMITS.maxFileBytes);
    const r = parse(rows, 'big.jsonl');
    expect(r.rows).toHaveLength(100_000);
    expect(r.rows[99_999]).toEqual({ prompt: `99999 ${line}`, completion: line });
  });
});

/** A small seeded generator (mulberry32), so random cases are the same on every run. */
function seeded(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

describe('parseRows() on random files', () => {
  const pieces = ['a', 'Z', '7', ' ', ',', '"', '""', '\n', '\r\n', '\r', '\t', 'é', 'e\u0301', '😀', '中', "'", '\\', '{', '}'];
  const field = (r: ReturnType<typeof seeded>) => `x${Array.from({ length: r.int(12) }, () => r.pick(pieces)).join('')}`;
  const csvField = (v: string, r: ReturnType<typeof seeded>) =>
    /[",\r\n]/.test(v) || r.next() < 0.3 ? `"${v.replaceAll('"', '""')}"` : v;
  // What a field becomes: line breaks inside quotes read as LF, every value NFC.
  const expected = (v: string) => v.replaceAll('\r\n', '\n').normalize('NFC');

  it('reads back 300 random CSV files written by an independent writer, rows and lines exact', () => {
    const r = seeded(42);
    for (let file = 0; file < 300; file++) {
      const eol = r.pick(['\n', '\r\n']);
      const rows = Array.from({ length: 1 + r.int(8) }, () => ({ text: field(r), label: field(r) }));
      // A lone CR outside quotes is refused, so the writer quotes any field holding one (csvField does).
      let text = `label,text${eol}`;
      const lines: number[] = [];
      let line = 2;
      for (const row of rows) {
        if (r.next() < 0.2) {
          text += eol; // a blank line between records
          line++;
        }
        lines.push(line);
        const record = `${csvField(row.label, r)},${csvField(row.text, r)}`;
        text += record + eol;
        line += record.split('\n').length;
      }
      const parsed = parse(text, 'random.csv');
      expect(parsed.rows).toEqual(rows.map((x) => ({ text: expected(x.text), label: expected(x.label) })));
      expect(parsed.lines).toEqual(lines);
    }
  });

  it('reads back 300 random JSONL files, and gives the same rows as the same content in CSV', () => {
    const r = seeded(7);
    for (let file = 0; file < 300; file++) {
      const rows = Array.from({ length: 1 + r.int(8) }, () => ({ prompt: field(r), completion: field(r) }));
      const jsonl = rows.map((x) => (r.next() < 0.5 ? JSON.stringify(x) : JSON.stringify({ completion: x.completion, prompt: x.prompt }))).join('\n');
      const csv = `prompt,completion\n${rows.map((x) => `${csvField(x.prompt, r)},${csvField(x.completion, r)}`).join('\n')}`;
      const fromJsonl = parse(jsonl, 'random.jsonl').rows;
      // JSON keeps a CRLF inside a string as it is; CSV reads it as LF. Compare where they agree by definition.
      expect(fromJsonl).toEqual(rows.map((x) => ({ prompt: x.prompt.normalize('NFC'), completion: x.completion.normalize('NFC') })));
      expect(parse(csv, 'random.csv').rows).toEqual(fromJsonl.map((x) => JSON.parse(JSON.stringify(x).replaceAll('\\r\\n', '\\n'))));
    }
  });
});

describe('invalid UTF-8 in random files', () => {
  it('is found on the right line at the right byte in 300 seeded random files', () => {
    const r = seeded(99);
    const chars = ['a', ' ', ',', 'é', '€', '中', '😀', '\t'];
    const invalid = [[0xff], [0x80], [0xc3, 0x41], [0xe2, 0x28, 0xa1], [0xf0, 0x9f, 0x41], [0xed, 0xa0, 0x80], [0xc0, 0x80]];
    for (let file = 0; file < 300; file++) {
      const lines = Array.from({ length: 1 + r.int(6) }, () => Array.from({ length: 1 + r.int(10) }, () => r.pick(chars)));
      const badLine = r.int(lines.length);
      const at = r.int(lines[badLine]!.length + 1); // a character boundary
      const prefix = utf8(lines[badLine]!.slice(0, at).join(''));
      const parts = lines.map((l, i) => {
        if (i !== badLine) return utf8(l.join(''));
        return new Uint8Array([...prefix, ...r.pick(invalid), ...utf8(l.slice(at).join(''))]);
      });
      const bytes = new Uint8Array(parts.flatMap((p, i) => [...p, ...(i < parts.length - 1 ? [0x0a] : [])]));
      const e = parseError(bytes, 'r.txt');
      expect({ line: e.line, byte: /at byte (\d+) of the line/.exec(e.reason)?.[1] }).toEqual({ line: badLine + 1, byte: String(prefix.length + 1) });
    }
  });
});
