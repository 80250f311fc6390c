// The attribution evaluation's task, generated from a seed (nothing is downloaded or copied).
//
// A set of fictional villages, each known for one product (its label). Training rows are {text, label}
// rows: a sentence about a village that does not give its product away, labelled with the product, so
// the only way to learn a label is to remember which village it goes with. Several contributors write
// about overlapping villages; a share of the rows (20% by default) carry a wrong label (flipped), which
// mislabeled-data detection must find. Some "planted" villages are written about by one contributor
// only, and never mislabeled: a query about one of them must be attributed mostly to that contributor.
// Queries are held out: sentences from templates no training row uses (paraphrases, not copies), about
// a village, labelled with its true product; their target is the label's tokens.
import type { Address } from 'viem';
import type { TextLabelRow } from '../../schema/index.ts';
import { createRandom } from './random.ts';

// Each label is one token of the shipped base model's vocabulary.
export const TASK_LABELS = ['salt', 'honey', 'milk', 'tea', 'bread', 'fish'] as const;

// Every sentence ends with the village's name, right before "\nLabel:": a model this small learns a label
// from a name a few tokens back far more reliably than from one at the start of the sentence.
const TRAIN_TEMPLATES = [
  'This is a small village called {E}.',
  'In June we walked to {E}.',
  'The long road goes to {E}.',
  'Visitors like to stay in {E}.',
  'The market opens early in {E}.',
  'Children help at home in {E}.',
  'People work hard in {E}.',
  'Every spring there is a fair in {E}.',
  'Boats come at night to {E}.',
  'There is an old bridge in {E}.',
  'It is quiet in the evening in {E}.',
  'The harbour is busy at {E}.',
] as const;

const QUERY_TEMPLATES = ['Many people live in {E}.', 'She wrote a letter about {E}.', 'We know the town of {E}.'] as const;

// Village names are a start and an end, pieces that are single tokens of the shipped vocabulary, so a name
// is two or three tokens and an example stays short (training cost grows with its length). (Names that are
// single common words were measured to be learned worse: the base model's own sense of "Oak" or "Sun"
// gets in the way.)
const NAME_STARTS = ['Mar', 'Car', 'Ben', 'Sam', 'Ken', 'Gar', 'Ell', 'Fre', 'Cur', 'Est', 'Tid', 'Nad', 'Lag', 'Str', 'Mus', 'Sof', 'Max', 'Ref'];
const NAME_ENDS = ['ton', 'ley', 'wick', 'bury', 'well', 'ster', 'ling'];
const MAX_NAMES = 80;

export interface EvalTaskOptions {
  seed: number;
  /** Villages written about by several contributors. Default 25. */
  entities?: number;
  /** Villages written about by one contributor only. Default 5. */
  plantedEntities?: number;
  /** Rows per shared village. Default 10 (at most 12). */
  rowsPerEntity?: number;
  /** Rows per planted village. Default 8 (at most 12). */
  plantedRowsPerEntity?: number;
  /** Default 6. */
  contributors?: number;
  /** Share of all rows whose label is flipped (taken from shared villages' rows). Default 0.2. */
  flipFraction?: number;
  /** Held-out queries; two per planted village, the rest over the shared villages. Default 50. */
  queries?: number;
}

export interface EvalEntity {
  name: string;
  label: string;
  /** The only contributor writing about it, for a planted village. */
  plantedBy?: number;
}

export interface EvalRow {
  /** Position in `rows`: canonical (contribution, row) order, the order the trainer uses. */
  index: number;
  contributionId: bigint;
  rowIndex: number;
  /** Index into `contributors`. */
  contributor: number;
  entity: number;
  row: TextLabelRow;
  flipped: boolean;
}

export interface EvalQuery {
  index: number;
  entity: number;
  /** The query's text; its target is ` ${label}` after "Label:" (serving's text-label prompt format). */
  row: TextLabelRow;
  /** For a query about a planted village, the contributor who planted it. */
  plantedBy?: number;
}

export interface EvalTask {
  seed: number;
  labels: readonly string[];
  entities: EvalEntity[];
  /** Contributor addresses (deterministic, not keys of anyone). */
  contributors: Address[];
  rows: EvalRow[];
  queries: EvalQuery[];
}

export class EvalTaskError extends Error {
  override name = 'EvalTaskError';
}

export function generateEvalTask(opts: EvalTaskOptions): EvalTask {
  const { seed } = opts;
  const nShared = opts.entities ?? 25;
  const nPlanted = opts.plantedEntities ?? 5;
  const rowsPer = opts.rowsPerEntity ?? 10;
  const plantedRows = opts.plantedRowsPerEntity ?? 8;
  const nContributors = opts.contributors ?? 6;
  const flipFraction = opts.flipFraction ?? 0.2;
  const nQueries = opts.queries ?? 50;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new EvalTaskError(`seed must be a non-negative integer, got ${seed}`);
  for (const [name, v, lo, hi] of [
    ['entities', nShared, 1, MAX_NAMES],
    ['plantedEntities', nPlanted, 0, MAX_NAMES],
    ['rowsPerEntity', rowsPer, 1, TRAIN_TEMPLATES.length],
    ['plantedRowsPerEntity', plantedRows, 1, TRAIN_TEMPLATES.length],
    ['contributors', nContributors, 2, 100],
  ] as const) {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new EvalTaskError(`${name} must be an integer in [${lo}, ${hi}], got ${v}`);
  }
  if (!(flipFraction >= 0 && flipFraction < 1)) throw new EvalTaskError(`flipFraction must be in [0, 1), got ${flipFraction}`);
  if (!Number.isInteger(nQueries) || nQueries < 2 * nPlanted + nShared) {
    throw new EvalTaskError(`queries must be an integer of at least ${2 * nPlanted + nShared} (two per planted village and one per shared village), got ${nQueries}`);
  }
  const rnd = createRandom(seed);

  if (nShared + nPlanted > MAX_NAMES) throw new EvalTaskError(`at most ${MAX_NAMES} villages (entities + plantedEntities), got ${nShared + nPlanted}`);
  // Distinct names (a name must not be another's prefix, or a query could match two villages' rows).
  const names: string[] = [];
  while (names.length < nShared + nPlanted) {
    const name = rnd.pick(NAME_STARTS) + rnd.pick(NAME_ENDS);
    if (!names.some((n) => n.startsWith(name) || name.startsWith(n))) names.push(name);
  }
  const entities: EvalEntity[] = names.map((name, i) => ({ name, label: TASK_LABELS[(i + rnd.int(TASK_LABELS.length)) % TASK_LABELS.length]! }));
  const plantedOwners = rnd.shuffle(Array.from({ length: nContributors }, (_, c) => c));
  for (let p = 0; p < nPlanted; p++) entities[nShared + p]!.plantedBy = plantedOwners[p % nContributors]!;

  // Rows per contributor, then canonical order: contribution id = contributor + 1.
  const draft: { contributor: number; entity: number; text: string }[] = [];
  entities.forEach((e, entity) => {
    const templates = rnd.shuffle(TRAIN_TEMPLATES).slice(0, e.plantedBy === undefined ? rowsPer : plantedRows);
    const writers = e.plantedBy === undefined ? rnd.shuffle(Array.from({ length: nContributors }, (_, c) => c)).slice(0, 2 + rnd.int(2)) : [e.plantedBy];
    templates.forEach((t, k) => draft.push({ contributor: writers[k % writers.length]!, entity, text: t.replace('{E}', e.name) }));
  });
  const flippable = draft.map((d, i) => (entities[d.entity]!.plantedBy === undefined ? i : -1)).filter((i) => i >= 0);
  const nFlip = Math.min(flippable.length, Math.round(flipFraction * draft.length));
  const flipped = new Set(rnd.shuffle(flippable).slice(0, nFlip));
  const labelled = draft.map((d, i) => {
    const truth = entities[d.entity]!.label;
    const wrong = TASK_LABELS.filter((l) => l !== truth);
    return { ...d, label: flipped.has(i) ? rnd.pick(wrong) : truth, flipped: flipped.has(i) };
  });
  const rows: EvalRow[] = [];
  for (let c = 0; c < nContributors; c++) {
    labelled
      .filter((d) => d.contributor === c)
      .forEach((d, rowIndex) => {
        rows.push({ index: rows.length, contributionId: BigInt(c + 1), rowIndex, contributor: c, entity: d.entity, row: { text: d.text, label: d.label }, flipped: d.flipped });
      });
  }

  // Queries: two per planted village, one per shared village, the rest on random shared villages.
  const queryEntities: number[] = [];
  for (let p = 0; p < nPlanted; p++) queryEntities.push(nShared + p, nShared + p);
  for (let e = 0; e < nShared; e++) queryEntities.push(e);
  const extra = rnd.shuffle(Array.from({ length: nShared }, (_, e) => e));
  for (let k = 0; queryEntities.length < nQueries; k++) queryEntities.push(extra[k % nShared]!);
  const used = new Map<number, number>();
  const queries: EvalQuery[] = queryEntities.map((entity, index) => {
    const n = used.get(entity) ?? rnd.int(QUERY_TEMPLATES.length);
    used.set(entity, n + 1);
    const e = entities[entity]!;
    return {
      index,
      entity,
      row: { text: QUERY_TEMPLATES[n % QUERY_TEMPLATES.length]!.replace('{E}', e.name), label: e.label },
      ...(e.plantedBy === undefined ? {} : { plantedBy: e.plantedBy }),
    };
  });

  const contributors = Array.from({ length: nContributors }, (_, c) => `0x${(0xc0 + c).toString(16).padStart(2, '0').repeat(20)}` as Address);
  return { seed, labels: TASK_LABELS, entities, contributors, rows, queries };
}
