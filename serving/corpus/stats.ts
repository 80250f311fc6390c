// Counts over a corpus: the figures that manifest.json and the README report.

/** The words of a text, lowercased: runs of letters, with inner apostrophes and hyphens ("can't", "tune-up"). Numbers are not words. */
export function wordsOf(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+(?:['-][a-z]+)*/g) ?? [];
}

export interface CorpusStats {
  documents: number;
  /** UTF-8 bytes of corpus.txt (documents joined by a blank line, with a final newline). */
  bytes: number;
  words: number;
  distinctWords: number;
  lines: number;
  distinctLines: number;
  /** The most repeated line and how many times it occurs. */
  topLine: { text: string; count: number };
}

/** The text of corpus.txt: documents separated by one blank line, ending with a newline. */
export const corpusText = (docs: readonly string[]) => (docs.length ? `${docs.join('\n\n')}\n` : '');

export function corpusStats(docs: readonly string[]): CorpusStats {
  const vocab = new Set<string>();
  const lineCounts = new Map<string, number>();
  let words = 0;
  let lines = 0;
  for (const d of docs) {
    for (const w of wordsOf(d)) {
      words++;
      vocab.add(w);
    }
    for (const l of d.split('\n')) {
      lines++;
      lineCounts.set(l, (lineCounts.get(l) ?? 0) + 1);
    }
  }
  let topLine = { text: '', count: 0 };
  for (const [text, count] of lineCounts) if (count > topLine.count) topLine = { text, count };
  return {
    documents: docs.length,
    bytes: Buffer.byteLength(corpusText(docs), 'utf8'),
    words,
    distinctWords: vocab.size,
    lines,
    distinctLines: lineCounts.size,
    topLine,
  };
}
