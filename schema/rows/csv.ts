// An RFC 4180 CSV reader: comma-separated fields, optional double quotes around a field, "" for a quote
// inside quotes, commas and line breaks allowed inside quotes. Records end with LF or CRLF. Line breaks
// (LF or CRLF) inside quoted fields come out as LF, so converting a file's line endings never changes a
// row; a lone CR inside quotes is kept as it is.
import { RowFormatError, excerptOf } from './errors.ts';

export interface CsvRecord {
  /** The 1-based line on which the record starts. */
  line: number;
  fields: string[];
}

/** Reads every record of `text`; empty lines between records are skipped. Throws RowFormatError. */
export function* readCsvRecords(text: string, filename: string): Generator<CsvRecord> {
  const n = text.length;
  let i = 0;
  let line = 1;
  // Only for error messages.
  const lineText = (l: number) => excerptOf(text.split('\n', l)[l - 1]?.replace(/\r$/, '') ?? '');
  const fail = (reason: string, l: number): never => {
    throw new RowFormatError(filename, reason, l, lineText(l));
  };

  while (i < n) {
    // An empty line between records is not a record.
    if (text[i] === '\n') {
      i++;
      line++;
      continue;
    }
    if (text[i] === '\r' && text[i + 1] === '\n') {
      i += 2;
      line++;
      continue;
    }
    const recordLine = line;
    const fields: string[] = [];
    for (;;) {
      let value: string;
      if (text[i] === '"') {
        const openLine = line;
        const parts: string[] = [];
        let from = ++i;
        for (;;) {
          if (i >= n) fail('a quoted field is never closed (a " is missing)', openLine);
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              parts.push(text.slice(from, i + 1)); // keeps one quote
              i += 2;
              from = i;
              continue;
            }
            parts.push(text.slice(from, i));
            i++;
            break;
          }
          if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
            parts.push(text.slice(from, i), '\n');
            i += c === '\r' ? 2 : 1;
            from = i;
            line++;
            continue;
          }
          i++;
        }
        value = parts.join('');
        const next = text[i];
        if (i < n && next !== ',' && next !== '\n' && !(next === '\r' && text[i + 1] === '\n')) {
          fail(`unexpected ${JSON.stringify(next)} after the closing quote of a field; a quoted field ends at a comma or the end of the line`, line);
        }
      } else {
        const from = i;
        while (i < n) {
          const c = text[i];
          if (c === ',' || c === '\n') break;
          if (c === '\r') {
            if (text[i + 1] === '\n') break;
            fail('a carriage return inside an unquoted field; quote the field or end lines with LF or CRLF', line);
          }
          if (c === '"') {
            fail('a quote inside an unquoted field; put the whole field in quotes and write each quote in it as ""', line);
          }
          i++;
        }
        value = text.slice(from, i);
      }
      fields.push(value);
      if (text[i] === ',') {
        i++;
        continue;
      }
      // End of the record: LF, CRLF or the end of the text.
      if (text[i] === '\r') i += 2;
      else if (text[i] === '\n') i++;
      line++;
      break;
    }
    yield { line: recordLine, fields };
  }
}
