// Parsing an uploaded file into rows. All or nothing: the first problem throws a RowFormatError with its
// line, and no rows come back. Formats, chosen by the file name's extension:
//   .txt, .md  one row {text} per line; trailing whitespace (and a CR) is stripped, blank lines skipped.
//   .csv       RFC 4180 with a header row naming exactly the columns text | prompt,completion | text,label
//              (any order, names trimmed and case-insensitive); empty lines between records are skipped.
//   .jsonl     one JSON object per non-blank line with exactly the keys {text}, {prompt, completion} or
//              {text, label}; values are strings, except that a label may also be an integer (JSON number
//              with no fraction, within ±2^53), which becomes its decimal string: {"label": 1} and
//              {"label": "1"} are the same row, as they would be in a CSV file. Unknown keys are refused.
// Every file: UTF-8 (a leading BOM is dropped), no NUL characters, one shape for all its rows, and no field
// that is empty or only whitespace. Rows come back in canonical form (NFC), in file order.
import { canonicalJson, canonicalRow } from './canonical.ts';
import { readCsvRecords } from './csv.ts';
import { RowFormatError, excerptOf } from './errors.ts';
import { ROW_SHAPE_KEYS, SHAPE_NAMES, checkRow, shapeOfKeys, type Row, type RowShape } from './row.ts';
import { decodeUtf8 } from './utf8.ts';

export type RowFileFormat = 'text' | 'csv' | 'jsonl';

export interface RowLimits {
  /** Largest accepted file, in bytes. */
  maxFileBytes: number;
  /** Largest accepted row, in bytes of its canonical encoding. */
  maxRowBytes: number;
  /** Most rows in one file. */
  maxRows: number;
}

/** 10 MiB per file (OpenLedger's daily upload allowance), 64 KiB per row, 100,000 rows. */
export const DEFAULT_ROW_LIMITS: RowLimits = { maxFileBytes: 10 * 1024 * 1024, maxRowBytes: 64 * 1024, maxRows: 100_000 };

export interface ParseRowsParameters {
  bytes: Uint8Array;
  /** The uploaded file's name; its extension picks the format. */
  filename: string;
  /** Defaults to DEFAULT_ROW_LIMITS. */
  limits?: RowLimits;
}

export interface ParsedRows {
  format: RowFileFormat;
  shape: RowShape;
  /** Canonical (NFC) rows in file order. */
  rows: Row[];
  /** The 1-based line each row starts on, parallel to `rows`. */
  lines: number[];
}

export type ParseRowsErrorType = RowFormatError;

const EXTENSIONS: Record<string, RowFileFormat> = { txt: 'text', md: 'text', csv: 'csv', jsonl: 'jsonl' };

/** The format a file name's extension selects, or undefined if it is not one of .txt .md .csv .jsonl. */
export function formatOfFilename(filename: string): RowFileFormat | undefined {
  const m = /\.([A-Za-z0-9]+)$/.exec(filename);
  return m ? EXTENSIONS[m[1]!.toLowerCase()] : undefined;
}

/** Parses a whole file into rows, or throws RowFormatError. */
export function parseRows({ bytes, filename, limits = DEFAULT_ROW_LIMITS }: ParseRowsParameters): ParsedRows {
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isSafeInteger(v) || v <= 0) throw new TypeError(`limits.${k} must be a positive integer, got ${v}`);
  }
  const format = formatOfFilename(filename);
  if (!format) {
    throw new RowFormatError(filename, 'unsupported file type; use .txt, .md, .csv or .jsonl');
  }
  if (bytes.length > limits.maxFileBytes) {
    throw new RowFormatError(filename, `file is ${bytes.length} bytes, over the limit of ${limits.maxFileBytes}`);
  }
  const text = decodeUtf8(bytes, filename);
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    const line = lineOf(text, nul);
    throw new RowFormatError(filename, 'a NUL character (is this a binary file?)', line, excerptOf(lineText(text, line)));
  }

  const out = new RowCollector(filename, limits);
  if (format === 'text') parseText(text, out);
  else if (format === 'csv') parseCsv(text, filename, out);
  else parseJsonl(text, out);

  if (out.rows.length === 0) throw new RowFormatError(filename, 'no rows: the file has no non-blank lines');
  return { format, shape: out.shape!, rows: out.rows, lines: out.lines };
}

class RowCollector {
  readonly rows: Row[] = [];
  readonly lines: number[] = [];
  shape: RowShape | undefined;
  private shapeLine = 0;

  constructor(
    private readonly filename: string,
    private readonly limits: RowLimits,
  ) {}

  fail(reason: string, line: number, excerpt: string): never {
    throw new RowFormatError(this.filename, reason, line, excerptOf(excerpt));
  }

  add(row: Row, shape: RowShape, line: number, excerpt: string): void {
    if (this.rows.length >= this.limits.maxRows) {
      this.fail(`more than ${this.limits.maxRows} rows, the limit for one file`, line, excerpt);
    }
    if (this.shape === undefined) {
      this.shape = shape;
      this.shapeLine = line;
    } else if (shape !== this.shape) {
      this.fail(`this row is ${SHAPE_NAMES[shape]} but the row on line ${this.shapeLine} is ${SHAPE_NAMES[this.shape]}; one file holds one shape`, line, excerpt);
    }
    for (const k of ROW_SHAPE_KEYS[shape]) {
      const v = (row as unknown as Record<string, string>)[k]!;
      if (v.trim() === '') this.fail(`"${k}" is empty`, line, excerpt);
      if (/[\uD800-\uDFFF]/u.test(v)) this.fail(`"${k}" holds a lone UTF-16 surrogate (a \\uD8xx escape without its pair)`, line, excerpt);
    }
    const canonical = canonicalRow(row);
    const size = Buffer.byteLength(canonicalJson(canonical), 'utf8');
    if (size > this.limits.maxRowBytes) {
      this.fail(`row is ${size} bytes in canonical form, over the limit of ${this.limits.maxRowBytes}`, line, excerpt);
    }
    this.rows.push(canonical);
    this.lines.push(line);
  }
}

function parseText(text: string, out: RowCollector): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trimEnd();
    if (line !== '') out.add({ text: line }, 'text', i + 1, line);
  }
}

function parseCsv(text: string, filename: string, out: RowCollector): void {
  let header: { columns: string[]; shape: RowShape; line: number } | undefined;
  for (const { line, fields } of readCsvRecords(text, filename)) {
    const excerpt = fields.join(',');
    if (!header) {
      const columns = fields.map((f) => f.trim().toLowerCase());
      const dup = columns.find((c, i) => columns.indexOf(c) !== i);
      if (dup !== undefined) out.fail(`the header names the column "${dup}" twice`, line, excerpt);
      const shape = shapeOfKeys(columns);
      if (!shape) {
        out.fail(
          `the first line must be a header naming the columns text, or prompt and completion, or text and label; found ${fields.map((f) => JSON.stringify(f)).join(', ')}`,
          line,
          excerpt,
        );
      }
      header = { columns, shape, line };
      continue;
    }
    if (fields.length !== header.columns.length) {
      out.fail(`${fields.length} field${fields.length === 1 ? '' : 's'}, but the header on line ${header.line} has ${header.columns.length}`, line, excerpt);
    }
    const row: Record<string, string> = {};
    header.columns.forEach((c, i) => (row[c] = fields[i]!));
    out.add(row as unknown as Row, header.shape, line, excerpt);
  }
}

function parseJsonl(text: string, out: RowCollector): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trimEnd();
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      out.fail(`not valid JSON (${(e as Error).message}); each line holds one JSON object`, i + 1, line);
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'label' in value) {
      const label = (value as { label: unknown }).label;
      if (typeof label === 'number') {
        if (!Number.isSafeInteger(label)) out.fail(`"label" must be a string or an integer, not ${label}`, i + 1, line);
        (value as { label: unknown }).label = String(label);
      }
    }
    const checked = checkRow(value);
    if ('problem' in checked) out.fail(checked.problem, i + 1, line);
    out.add(value as Row, checked.shape, i + 1, line);
  }
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function lineText(text: string, line: number): string {
  return (text.split('\n', line)[line - 1] ?? '').replace(/\r$/, '');
}
