import { describe, expect, it } from 'vitest';
import { articleFor, count, fixArticles, groupDigits, inflect, joinList, noun, numberWords, ordinalSuffix, pluralize, sentence } from './english.ts';
import { fillMarkup, negateVp, renderVp, yesNoQuestion } from './clause.ts';
import { vary } from './vary.ts';
import { createRandom } from './random.ts';

describe('english', () => {
  it('pluralizes the head of a phrase', () => {
    expect(['sea otter', 'fox', 'butterfly', 'loaf', 'pool of seawater', 'potato', 'day'].map(pluralize))
      .toEqual(['sea otters', 'foxes', 'butterflies', 'loaves', 'pools of seawater', 'potatoes', 'days']);
  });

  it('inflects verbs for number and tense', () => {
    expect(inflect('have', 'present', 'sg')).toBe('has');
    expect(inflect('be', 'past', 'pl')).toBe('were');
    expect(inflect('catch', 'present', 'sg')).toBe('catches');
    expect(inflect('carry', 'past')).toBe('carried');
    expect(inflect('stop', 'ing')).toBe('stopping');
    expect(inflect('dive', 'ing')).toBe('diving');
    expect(inflect('lie', 'ing')).toBe('lying');
    expect(inflect('can', 'present', 'sg')).toBe('can');
    expect(inflect('can', 'past')).toBe('could');
    expect(inflect('swim', 'past')).toBe('swam');
  });

  it('chooses "a" or "an" by sound', () => {
    expect(['heron', 'egret', 'hour', 'uniform', 'umbrella', 'one-way', '8', '18', '11,000', '110', 'euro', 'honest'].map(articleFor))
      .toEqual(['a', 'an', 'an', 'a', 'an', 'a', 'an', 'an', 'an', 'a', 'a', 'an']);
    expect(fixArticles('A egret met an heron and a "apple", an 80 and a 8.')).toBe('An egret met a heron and an "apple", an 80 and an 8.');
  });

  it('writes numbers, counts and lists', () => {
    expect([0, 13, 42, 90, 305].map(numberWords)).toEqual(['zero', 'thirteen', 'forty-two', 'ninety', 'three hundred and five']);
    expect(() => numberWords(1000)).toThrow('numberWords covers 0–999, got 1000');
    expect(groupDigits(3077087)).toBe('3,077,087');
    expect([1, 2, 3, 11, 22, 113].map(ordinalSuffix)).toEqual(['1st', '2nd', '3rd', '11th', '22nd', '113th']);
    expect(count(1, noun('heron'))).toBe('one heron');
    expect(count(24, noun('heron'))).toBe('24 herons');
    expect(joinList(['a', 'b', 'c'])).toBe('a, b and c');
    expect(sentence('the tide turned')).toBe('The tide turned.');
    expect(sentence('did it?')).toBe('Did it?');
  });
});

describe('clause', () => {
  const vp = 'float on {their} {backs/back} while {they} {eat/eats} and ^sleep';
  it('renders a verb phrase for either number and tense', () => {
    expect(renderVp(vp, 'pl', 'present')).toBe('float on their backs while they eat and sleep');
    expect(renderVp(vp, 'sg', 'present')).toBe('floats on its back while it eats and sleeps');
    expect(renderVp('float on {their} {backs/back} and ^sleep', 'sg', 'past')).toBe('floated on its back and slept');
    expect(renderVp(vp, 'pl', 'ing')).toBe('floating on their backs while they eat and sleeping');
    expect(renderVp('can grow back a lost arm', 'sg', 'present')).toBe('can grow back a lost arm');
  });

  it('negates and questions it', () => {
    expect(negateVp('survive hard frosts', 'pl')).toBe('do not survive hard frosts');
    expect(negateVp('survive hard frosts', 'sg', 'past')).toBe('did not survive hard frosts');
    expect(negateVp('be fish', 'pl')).toBe('are not fish');
    expect(negateVp('can fly', 'sg')).toBe('cannot fly');
    expect(yesNoQuestion('eat clams', { text: 'a sea otter', num: 'sg' })).toBe('does a sea otter eat clams?');
    expect(yesNoQuestion('be fish', { text: 'dolphins', num: 'pl' })).toBe('are dolphins fish?');
    expect(yesNoQuestion('can grow fast', { text: 'kelp', num: 'sg' })).toBe('can kelp grow fast?');
  });

  it('refuses unknown markup', () => {
    expect(() => fillMarkup('eat {thier} food', 'pl')).toThrow('unknown markup {thier} in "eat {thier} food"');
  });
});

describe('vary', () => {
  it('expands nested alternatives and tidies spaces', () => {
    const r = createRandom(9);
    const outs = new Set<string>();
    for (let i = 0; i < 200; i++) outs.add(vary(r, '{Whisk|Beat} the eggs{| {well|hard}}.'));
    expect([...outs].sort()).toEqual(['Beat the eggs hard.', 'Beat the eggs well.', 'Beat the eggs.', 'Whisk the eggs hard.', 'Whisk the eggs well.', 'Whisk the eggs.']);
    expect(() => vary(r, '{a|b')).toThrow('unclosed { in template: {a|b');
  });
});
