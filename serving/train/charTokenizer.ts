// A tokenizer for tests and measurements of the training code: one token per character of a fixed
// alphabet, plus an EOS token, so that tiny models (vocabularies under 64) can be trained in seconds and
// tests do not depend on GPT-2's BPE. It implements serving's Tokenizer interface.
import type { StreamDecoder, Tokenizer } from '../tokenizer.ts';
import { TrainingError } from './errors.ts';

/** Lower-case letters, digits, punctuation and the capitals the prompt format uses (Question, Answer, Text, Label). */
export const CHAR_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789 :\n.,?QATL';

export function charTokenizer(alphabet = CHAR_ALPHABET): Tokenizer {
  const chars = [...alphabet];
  const ids = new Map(chars.map((c, i) => [c, i]));
  if (ids.size !== chars.length) throw new TrainingError('the alphabet repeats a character');
  const eosToken = chars.length;
  const decode = (xs: readonly number[]) =>
    xs
      .map((id) => {
        if (id === eosToken) return '<|endoftext|>';
        const c = chars[id];
        if (c === undefined) throw new TrainingError(`token ${id} is outside the vocabulary of ${eosToken + 1}`);
        return c;
      })
      .join('');
  return {
    vocabSize: chars.length + 1,
    eosToken,
    encode(text) {
      return [...text].map((c) => {
        const id = ids.get(c);
        if (id === undefined) throw new TrainingError(`character ${JSON.stringify(c)} is not in the test alphabet`);
        return id;
      });
    },
    decode,
    createDecoder(): StreamDecoder {
      let held: number[] = [];
      return {
        push(id) {
          held = [];
          return decode([id]);
        },
        flush() {
          const out = decode(held);
          held = [];
          return out;
        },
      };
    },
  };
}
