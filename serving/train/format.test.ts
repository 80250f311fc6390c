import { describe, expect, it } from 'vitest';
import { charTokenizer } from './charTokenizer.ts';
import { formatRow, promptFor, shapeOfRow, toExample, tokensToExample } from './format.ts';

const tok = charTokenizer();
const ones = (n: number) => new Array<number>(n).fill(1);
const zeros = (n: number) => new Array<number>(n).fill(0);

describe('format', () => {
  it('writes each row shape as prompt and target text', () => {
    expect(formatRow({ text: 'the sea' })).toEqual({ prompt: '', target: 'the sea' });
    expect(formatRow({ prompt: 'hi', completion: 'yo' })).toEqual({ prompt: 'Question: hi\nAnswer:', target: ' yo' });
    expect(formatRow({ text: 'good film', label: 'pos' })).toEqual({ prompt: 'Text: good film\nLabel:', target: ' pos' });
    expect(promptFor('prompt-completion', 'hi')).toBe('Question: hi\nAnswer:');
    expect(promptFor('text-label', 'good film')).toBe('Text: good film\nLabel:');
    expect(promptFor('text', 'once upon')).toBe('once upon');
    expect(shapeOfRow({ text: 'a', label: 'b' })).toBe('text-label');
    expect(shapeOfRow({ prompt: 'a', completion: 'b' })).toBe('prompt-completion');
    expect(shapeOfRow({ text: 'a' })).toBe('text');
  });

  it('puts the loss on the answer and its EOS only, aligned with next-token targets', () => {
    const ex = toExample({ prompt: 'hi', completion: 'yo' }, tok, 64);
    const prompt = tok.encode('Question: hi\nAnswer:');
    expect(prompt.length).toBe(20);
    expect(ex.tokens).toEqual([...prompt, ...tok.encode(' yo'), tok.eosToken]);
    // 24 tokens, 23 predictions: positions 19…22 predict ' ', 'y', 'o', EOS.
    expect(ex.lossMask).toEqual([...zeros(19), ...ones(4)]);
    expect(ex.truncated).toBe(false);

    const label = toExample({ text: 'ok', label: 'pos' }, tok, 64);
    expect(tok.decode(label.tokens)).toBe('Text: ok\nLabel: pos<|endoftext|>');
    expect(label.lossMask).toEqual([...zeros(14), ...ones(5)]);
  });

  it('a {text} row carries loss on every token after the first, and on its EOS', () => {
    const ex = toExample({ text: 'abc' }, tok, 64);
    expect(ex.tokens).toEqual([0, 1, 2, tok.eosToken]);
    expect(ex.lossMask).toEqual([1, 1, 1]);
  });

  it('truncation drops the prompt from the left and keeps the target, and says so', () => {
    const ex = toExample({ prompt: 'hi', completion: 'yo' }, tok, 10);
    expect(tok.decode(ex.tokens)).toBe('nswer: yo<|endoftext|>');
    expect(ex.lossMask).toEqual([...zeros(5), ...ones(4)]);
    expect(ex.truncated).toBe(true);
    // A target that cannot fit keeps its beginning and one prompt token before it.
    const long = toExample({ prompt: 'hi', completion: 'yoyo' }, tok, 4);
    expect(tok.decode(long.tokens)).toBe(': yo');
    expect(long.lossMask).toEqual([1, 1, 1]);
    expect(long.truncated).toBe(true);
    const text = toExample({ text: 'abcdefghij' }, tok, 5);
    expect(text.tokens).toEqual([0, 1, 2, 3, 4]);
    expect(text.lossMask).toEqual([1, 1, 1, 1]);
    expect(text.truncated).toBe(true);
    // Exactly at the limit: nothing dropped.
    expect(toExample({ text: 'abcd' }, tok, 5).truncated).toBe(false);
  });

  it('builds examples from an inference’s prompt and output tokens', () => {
    expect(tokensToExample([5, 6], [7, 8, 46], 16)).toEqual({ tokens: [5, 6, 7, 8, 46], lossMask: [0, 1, 1, 1], truncated: false });
    expect(() => tokensToExample([5], [], 16)).toThrow(/at least one target token/);
    expect(() => tokensToExample([5], [6], 1)).toThrow(/maxTokens must be an integer of at least 2, got 1/);
    expect(() => tokensToExample([], [6], 8)).toThrow(/predicts nothing/);
  });
});
