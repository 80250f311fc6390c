// The training corpus of the tiny base model: plain English generated from a small probabilistic
// grammar written for Tributary (nothing is downloaded or copied). For a given seed and document
// count the output is byte-identical on every machine: one seeded generator per document, integer
// arithmetic only, no clock, no locale. See README.md beside this file.
import { CorpusError } from './errors.ts';
import { fixArticles } from './english.ts';
import { dialogue } from './grammar/dialogue.ts';
import { factList, miscellany, topicArticle } from './grammar/expository.ts';
import { guideDocument } from './grammar/guide.ts';
import { diary, letter, notice } from './grammar/letters.ts';
import { review } from './grammar/messages.ts';
import { qaDocument } from './grammar/qa.ts';
import { bikeStory, cookingStory, marketStory, outingStory, skyStory, weatherStory, workdayStory } from './grammar/story.ts';
import { createRandom, deriveSeed, type Random } from './random.ts';

/** Bump whenever the grammar, the word lists or the facts change what is generated. */
export const CORPUS_VERSION = 1;

/** The kinds of document, with their share of the corpus (weights, not percentages). */
const KINDS = {
  article: [topicArticle, 17],
  'fact-list': [factList, 5],
  miscellany: [miscellany, 4],
  'coast-story': [(r: Random) => outingStory(r, false), 9],
  'outing-story': [(r: Random) => outingStory(r, true), 3],
  'cooking-story': [cookingStory, 6],
  'bike-story': [bikeStory, 3],
  'workday-story': [workdayStory, 2],
  'market-story': [marketStory, 2],
  'weather-story': [weatherStory, 2],
  'sky-story': [skyStory, 1],
  qa: [qaDocument, 22],
  dialogue: [dialogue, 12],
  review: [review, 2],
  guide: [guideDocument, 5],
  letter: [letter, 2],
  diary: [diary, 2],
  notice: [notice, 1],
} as const satisfies Record<string, readonly [(r: Random) => string, number]>;

export type DocumentKind = keyof typeof KINDS;
export const DOCUMENT_KINDS = Object.keys(KINDS) as DocumentKind[];

export interface CorpusOptions {
  /** A non-negative safe integer. */
  seed: number;
  /** How many documents to generate. */
  documents: number;
}

export interface CorpusDocument {
  kind: DocumentKind;
  text: string;
}

const WEIGHTED = DOCUMENT_KINDS.map((k) => [k, KINDS[k][1]] as const);

/** Document `index` of the corpus for `seed`: the same whatever the total count. */
export function generateDocument(seed: number, index: number): CorpusDocument {
  const r = createRandom(deriveSeed(seed, index));
  const kind = r.weighted(WEIGHTED);
  const raw = KINDS[kind][0](r);
  // One pass fixes every a/an; then tidy spaces. A document never holds a blank line, so documents
  // joined by a blank line can be split apart again.
  const text = fixArticles(raw)
    .replace(/[ \t]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{2,}/g, '\n')
    .trim();
  return { kind, text };
}

function check(opts: CorpusOptions): void {
  if (!Number.isSafeInteger(opts.seed) || opts.seed < 0) {
    throw new CorpusError(`corpus seed must be a non-negative safe integer, got ${String(opts.seed)}`);
  }
  if (!Number.isSafeInteger(opts.documents) || opts.documents < 0) {
    throw new CorpusError(`corpus document count must be a non-negative integer, got ${String(opts.documents)}`);
  }
}

/** The documents with their kinds. */
export function generateCorpusDocuments(opts: CorpusOptions): CorpusDocument[] {
  check(opts);
  const out: CorpusDocument[] = [];
  for (let i = 0; i < opts.documents; i++) out.push(generateDocument(opts.seed, i));
  return out;
}

/** One string per document, in order. */
export function generateCorpus(opts: CorpusOptions): string[] {
  return generateCorpusDocuments(opts).map((d) => d.text);
}
