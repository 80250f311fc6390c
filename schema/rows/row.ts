// The three row shapes a datanet accepts (DESIGN.md, "Data: where the truth lives"). Every value is a
// string: a JSONL integer label is turned into its decimal string by the parser, so a CSV row and a JSONL
// row with the same content are the same row and hash the same.

export interface TextRow {
  text: string;
}
export interface PromptCompletionRow {
  prompt: string;
  completion: string;
}
export interface TextLabelRow {
  text: string;
  label: string;
}
export type Row = TextRow | PromptCompletionRow | TextLabelRow;

export type RowShape = 'text' | 'prompt-completion' | 'text-label';

/** Each shape's keys, sorted (the order of the canonical encoding). */
export const ROW_SHAPE_KEYS = {
  text: ['text'],
  'prompt-completion': ['completion', 'prompt'],
  'text-label': ['label', 'text'],
} as const satisfies Record<RowShape, readonly string[]>;

export const ROW_SHAPES = Object.keys(ROW_SHAPE_KEYS) as RowShape[];

/** The shape whose keys are exactly `keys` (in any order), or undefined. */
export function shapeOfKeys(keys: readonly string[]): RowShape | undefined {
  const sorted = [...keys].sort().join(',');
  return ROW_SHAPES.find((s) => ROW_SHAPE_KEYS[s].join(',') === sorted);
}

/** How each shape is written in messages. */
export const SHAPE_NAMES: Record<RowShape, string> = {
  text: '{text}',
  'prompt-completion': '{prompt, completion}',
  'text-label': '{text, label}',
};

/** How the shapes are written in messages: `{text}`, `{prompt, completion}`, `{text, label}`. */
export const SHAPES_IN_WORDS = '{text}, {prompt, completion} or {text, label}';

/**
 * The row's shape, or a message saying what is wrong with it: not a plain object, keys that are no
 * shape, or a value that is not a string.
 */
export function checkRow(value: unknown): { shape: RowShape } | { problem: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problem: `a row must be a JSON object with the keys ${SHAPES_IN_WORDS}` };
  }
  const keys = Object.keys(value);
  const shape = shapeOfKeys(keys);
  if (!shape) {
    const unknown = keys.filter((k) => !['text', 'prompt', 'completion', 'label'].includes(k));
    const found = keys.length ? keys.map((k) => JSON.stringify(k)).join(', ') : 'none';
    return {
      problem: unknown.length
        ? `unknown key ${unknown.map((k) => JSON.stringify(k)).join(', ')}; a row has exactly the keys ${SHAPES_IN_WORDS}`
        : `keys ${found} are not a row shape; a row has exactly the keys ${SHAPES_IN_WORDS}`,
    };
  }
  for (const k of ROW_SHAPE_KEYS[shape]) {
    const v = (value as Record<string, unknown>)[k];
    if (typeof v !== 'string') return { problem: `"${k}" must be a string, not ${describe(v)}` };
  }
  return { shape };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}
