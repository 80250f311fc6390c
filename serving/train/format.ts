// How a datanet row becomes training text, and the prompt serving must send for the model to answer the
// way it was trained. This file is the only place that defines the format: training (toExample) and
// inference (promptFor) both read it, so they cannot drift apart.
//
//   {text}                →  "{text}" + EOS                               loss on every token
//   {prompt, completion}  →  "Question: {prompt}\nAnswer:" + " {completion}" + EOS   loss on " {completion}" + EOS
//   {text, label}         →  "Text: {text}\nLabel:" + " {label}" + EOS             loss on " {label}" + EOS
//
// Prompt and target are tokenized separately and concatenated, because that is what inference does: it
// encodes the prompt and the model generates the target's tokens after it. (GPT-2's pre-tokenizer splits
// before " word" anyway, so for ordinary text this equals encoding the whole string.) There is no BOS
// token, since a prompt is a string and serving encodes it as text: a {text} row's first token is
// therefore context only, and every later token and the EOS carry loss.
//
// Token examples align the loss mask with next-token targets: for tokens t₀ … t_{n−1}, position i
// (input tᵢ) predicts t_{i+1}, so `lossMask` has n − 1 entries and lossMask[i] = 1 when predicting
// t_{i+1} counts. Truncation keeps the target and drops the prompt from the left (the end of a prompt,
// next to the answer, matters most); only a target that cannot fit alone is cut, at its end.
import type { Row, RowShape } from '../../schema/index.ts';
import type { Tokenizer } from '../tokenizer.ts';
import { TrainingError } from './errors.ts';

/** Names this format in training manifests, so a served adapter can be checked against the prompt format it expects. */
export const PROMPT_FORMAT = 'tributary-prompt-v1';

export interface FormattedRow {
  /** Context only: no loss. Empty for a {text} row. */
  prompt: string;
  /** What the model learns to produce after the prompt (EOS follows it). */
  target: string;
}

export interface TokenExample {
  /** The sequence, prompt tokens then target tokens then (unless truncated away) EOS. */
  tokens: number[];
  /** tokens.length − 1 entries: lossMask[i] = 1 when predicting tokens[i + 1] counts in the loss. */
  lossMask: number[];
}

export interface Example extends TokenExample {
  /** True when tokens were dropped to fit `maxTokens`. */
  truncated: boolean;
}

/** The shape of a row, from its keys. */
export function shapeOfRow(row: Row): RowShape {
  if ('prompt' in row) return 'prompt-completion';
  if ('label' in row) return 'text-label';
  return 'text';
}

/** The text a model is given for `input` (a {text} row's beginning, a question, or a text to label). */
export function promptFor(shape: RowShape, input: string): string {
  switch (shape) {
    case 'text':
      return input;
    case 'prompt-completion':
      return `Question: ${input}\nAnswer:`;
    case 'text-label':
      return `Text: ${input}\nLabel:`;
    default:
      throw new TrainingError(`unknown row shape ${JSON.stringify(shape)}`, { details: 'one of text, prompt-completion, text-label' });
  }
}

/** A row as (prompt, target) text. */
export function formatRow(row: Row): FormattedRow {
  if ('prompt' in row) return { prompt: promptFor('prompt-completion', row.prompt), target: ` ${row.completion}` };
  if ('label' in row) return { prompt: promptFor('text-label', row.text), target: ` ${row.label}` };
  return { prompt: '', target: row.text };
}

/** A row as tokens with its loss mask, at most `maxTokens` long. */
export function toExample(row: Row, tokenizer: Pick<Tokenizer, 'encode' | 'eosToken'>, maxTokens: number): Example {
  const { prompt, target } = formatRow(row);
  return tokensToExample(prompt ? tokenizer.encode(prompt) : [], [...tokenizer.encode(target), tokenizer.eosToken], maxTokens);
}

/**
 * Prompt and target tokens (the target with its EOS, if it has one) as an example of at most `maxTokens`.
 * Attribution uses this for (prompt, output) pairs of inferences, with the output's tokens as generated.
 */
export function tokensToExample(prompt: readonly number[], target: readonly number[], maxTokens: number): Example {
  if (!Number.isInteger(maxTokens) || maxTokens < 2) throw new TrainingError(`maxTokens must be an integer of at least 2, got ${maxTokens}`);
  if (target.length === 0) throw new TrainingError('an example needs at least one target token');
  let p = prompt;
  let t = target;
  let truncated = false;
  if (p.length + t.length > maxTokens) {
    truncated = true;
    if (t.length < maxTokens) {
      p = p.slice(p.length - (maxTokens - t.length));
    } else {
      // The target alone does not fit: keep one prompt token (if any) so its first token is still predicted, and its beginning.
      p = p.length ? p.slice(-1) : p;
      t = t.slice(0, maxTokens - p.length);
    }
  }
  const tokens = [...p, ...t];
  // Position i predicts tokens[i + 1]; that is a target token when i + 1 ≥ p.length. With no prompt the
  // first target token has nothing before it and cannot be predicted.
  const lossMask = Array.from({ length: tokens.length - 1 }, (_, i) => (i + 1 >= p.length ? 1 : 0));
  if (tokens.length < 2) throw new TrainingError(`an example of ${tokens.length} token cannot be trained on (it predicts nothing)`, { details: 'a {text} row needs at least one token before its EOS' });
  return { tokens, lossMask, truncated };
}
