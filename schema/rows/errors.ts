// Errors of the row formats. A bad file is never retryable: the file itself has to change.

/**
 * An uploaded file that cannot become rows. `line` is 1-based (undefined for whole-file problems such as
 * size or an unknown extension); `excerpt` is a short, printable piece of the offending line.
 */
export class RowFormatError extends Error {
  override name = 'RowFormatError';
  readonly retryable = false;
  constructor(
    readonly filename: string,
    readonly reason: string,
    readonly line?: number,
    readonly excerpt?: string,
  ) {
    super(
      `${filename}${line === undefined ? '' : `: line ${line}`}: ${reason}` +
        (excerpt === undefined ? '' : `\n  ${JSON.stringify(excerpt)}`),
    );
  }
}

const EXCERPT_CHARS = 80;

/** The first characters of a line, for an error message (long lines are cut with an ellipsis). */
export function excerptOf(line: string): string {
  const chars = [...line];
  return chars.length > EXCERPT_CHARS ? `${chars.slice(0, EXCERPT_CHARS).join('')}…` : line;
}
