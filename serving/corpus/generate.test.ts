import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { negateVp, renderVp } from './clause.ts';
import { CorpusError } from './errors.ts';
import { ENTITIES, entity } from './facts.ts';
import { CORPUS_VERSION, DOCUMENT_KINDS, generateCorpus, generateCorpusDocuments, generateDocument, type CorpusDocument } from './generate.ts';
import { corpusStats, corpusText } from './stats.ts';
import { DEFAULT_DOCUMENTS } from './write.ts';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The default corpus, generated once for the whole file (about 3 s). */
let docs: CorpusDocument[];
let texts: string[];
let all: string;
beforeAll(() => {
  docs = generateCorpusDocuments({ seed: 1, documents: DEFAULT_DOCUMENTS });
  texts = docs.map((d) => d.text);
  all = texts.join('\n\n');
});

describe('generateCorpus determinism', () => {
  it('is byte-identical for a given seed and count (pinned: bump CORPUS_VERSION and this hash together)', () => {
    expect(CORPUS_VERSION).toBe(1);
    expect(sha256(corpusText(generateCorpus({ seed: 1, documents: 500 })))).toBe('3f8e6e37004aaa37a3070fd57e95a01c85c84f5c158d35d45e71c022ba6f67eb');
    expect(generateCorpus({ seed: 1, documents: 1 })).toEqual([
      'Question: Are dolphins fish?\nAnswer: No, dolphins are not fish. They leap out of the water as they swim.',
    ]);
  });

  it('gives the same documents for the same seed and different ones for another seed', () => {
    const a = generateCorpus({ seed: 7, documents: 300 });
    expect(generateCorpus({ seed: 7, documents: 300 })).toEqual(a);
    const b = generateCorpus({ seed: 8, documents: 300 });
    const same = a.filter((d, i) => d === b[i]).length;
    // Short documents ("Which month comes after May?") may coincide now and then, never most of them.
    expect(same).toBeLessThan(15);
    const high = generateCorpus({ seed: 7 + 2 ** 32, documents: 50 });
    expect(high.filter((d, i) => d === a[i]).length).toBeLessThan(5);
  });

  it('makes document i the same whatever the number of documents', () => {
    const long = generateCorpus({ seed: 3, documents: 120 });
    expect(generateCorpus({ seed: 3, documents: 40 })).toEqual(long.slice(0, 40));
    expect(generateDocument(3, 119).text).toBe(long[119]);
  });

  it('refuses a seed or a count that is not a non-negative integer', () => {
    expect(generateCorpus({ seed: 1, documents: 0 })).toEqual([]);
    for (const bad of [{ seed: -1, documents: 1 }, { seed: 1.5, documents: 1 }, { seed: Number.NaN, documents: 1 }, { seed: 1, documents: -3 }, { seed: 1, documents: 2.5 }]) {
      expect(() => generateCorpus(bad)).toThrow(CorpusError);
    }
    expect(() => generateCorpus({ seed: -1, documents: 1 })).toThrow('corpus seed must be a non-negative safe integer, got -1');
    expect(() => generateCorpus({ seed: 1, documents: -3 })).toThrow('corpus document count must be a non-negative integer, got -3');
  });
});

describe('the default corpus', () => {
  it('is about 3 MB with a vocabulary of 1,500–3,000 words and every kind of document', () => {
    const s = corpusStats(texts);
    expect(s.documents).toBe(DEFAULT_DOCUMENTS);
    expect(s.bytes).toBeGreaterThan(2_700_000);
    expect(s.bytes).toBeLessThan(3_500_000);
    expect(s.distinctWords).toBeGreaterThanOrEqual(1500);
    expect(s.distinctWords).toBeLessThanOrEqual(3000);
    const kinds = new Set(docs.map((d) => d.kind));
    expect([...kinds].sort()).toEqual([...DOCUMENT_KINDS].sort());
  });

  it('has clean documents: no blank lines, no stray markup, no doubled spaces', () => {
    const bad = texts.filter((t) => t !== t.trim() || /\n\s*\n/.test(t) || /[{}^]|undefined|NaN|\[object| {2}| [,.!?;:]/.test(t));
    expect(bad.slice(0, 3)).toEqual([]);
    // Documents joined by a blank line split back into the same documents.
    expect(corpusText(texts).trimEnd().split('\n\n')).toEqual(texts);
  });

  it('uses "a" and "an" by the sound of the next word', () => {
    // An independent, simpler rule than english.ts's: vowel letters take "an", except the listed words.
    const wantAn = (w: string) => {
      const x = w.toLowerCase();
      if (/^\d/.test(x)) return /^(8|11\b|18\b|11,|18,)/.test(x);
      if (/^(hour|honest|honour)/.test(x)) return true;
      if (/^(uni[^nm]|use|usu|one\b|once|eu)/.test(x)) return false;
      return /^[aeiou]/.test(x);
    };
    const wrong: string[] = [];
    let checked = 0;
    for (const m of all.matchAll(/\b(a|an|A|An) ["']?([A-Za-z0-9][\w'-]*)/g)) {
      checked++;
      if ((m[1]!.toLowerCase() === 'an') !== wantAn(m[2]!)) wrong.push(m[0]);
    }
    expect(checked).toBeGreaterThan(10_000);
    expect(wrong.slice(0, 10)).toEqual([]);
  });

  it('holds between 18% and 27% question-and-answer documents, each ending in one "Question: …\\nAnswer: …"', () => {
    const qa = docs.filter((d) => d.kind === 'qa');
    expect(qa.length / docs.length).toBeGreaterThan(0.18);
    expect(qa.length / docs.length).toBeLessThan(0.27);
    for (const d of qa) {
      const lines = d.text.split('\n');
      expect(lines.length === 2 || lines.length === 3, d.text).toBe(true);
      expect(lines.at(-2), d.text).toMatch(/^Question: \S.*[?"]$/);
      expect(lines.at(-1), d.text).toMatch(/^Answer: \S/);
    }
    // The pattern belongs to Q&A documents only.
    expect(docs.filter((d) => d.kind !== 'qa' && /^(Question|Answer): /m.test(d.text)).map((d) => d.kind)).toEqual([]);
  });

  it('writes dialogues as alternating "Customer:" and "Agent:" lines', () => {
    const dialogues = docs.filter((d) => d.kind === 'dialogue');
    expect(dialogues.length / docs.length).toBeGreaterThan(0.08);
    for (const d of dialogues) {
      const speakers = d.text.split('\n').map((l) => /^(Customer|Agent): \S/.exec(l)?.[1]);
      expect(speakers.includes(undefined), d.text).toBe(false);
      expect(speakers.some((s, i) => i > 0 && s === speakers[i - 1]), d.text).toBe(false);
      expect(new Set(speakers).size, d.text).toBe(2);
    }
  });

  it('repeats no line of four words or more in more than 1% of documents', () => {
    const inDocs = new Map<string, number>();
    for (const t of texts) for (const l of new Set(t.split('\n'))) if (l.split(' ').length >= 4) inDocs.set(l, (inDocs.get(l) ?? 0) + 1);
    const worst = [...inDocs].sort((a, b) => b[1] - a[1])[0]!;
    expect(worst[1] / docs.length, worst[0]).toBeLessThan(0.01);
    const s = corpusStats(texts);
    expect(s.distinctLines / s.lines).toBeGreaterThan(0.55);
  });
});

describe('facts stay consistent', () => {
  it('the table has unique entities, and nothing is both affirmed and denied', () => {
    expect(new Set(ENTITIES.map((e) => e.id)).size).toBe(ENTITIES.length);
    expect(new Set(ENTITIES.map((e) => e.noun.sg)).size).toBe(ENTITIES.length);
    for (const e of ENTITIES) {
      expect(e.facts.length, e.id).toBeGreaterThanOrEqual(3);
      const said = new Set(e.facts.map((f) => f.vp));
      for (const vp of e.not) expect(said.has(vp), `${e.id}: ${vp}`).toBe(false);
      // Every phrase renders for both numbers without leftover markup.
      for (const vp of [...e.facts.map((f) => f.vp), ...e.not, ...(e.kindThat ? [e.kindThat] : [])]) {
        for (const num of ['sg', 'pl'] as const) expect(renderVp(vp, num, 'present'), vp).not.toMatch(/[{}^]/);
      }
    }
  });

  it('never states a denied fact, nor denies a stated one', () => {
    const forms = (e: (typeof ENTITIES)[number]) => e.generic === 'plural'
      ? [{ s: e.noun.pl, num: 'pl' as const }, { s: `a ${e.noun.sg}`, num: 'sg' as const }, { s: `the ${e.noun.sg}`, num: 'sg' as const }]
      : [{ s: e.generic === 'the' ? `the ${e.noun.sg}` : e.noun.sg, num: 'sg' as const }];
    // Questions ("Do mangroves survive hard frosts?") assert nothing, so they are left out.
    const lower = all.replace(/[^.!?\n"]*\?/g, '').toLowerCase();
    const contradictions: string[] = [];
    let denials = 0;
    for (const e of ENTITIES) {
      for (const { s, num } of forms(e)) {
        for (const vp of e.not) {
          if (lower.includes(`${s} ${renderVp(vp, num, 'present')}`.toLowerCase())) contradictions.push(`${s} ${renderVp(vp, num, 'present')}`);
          if (lower.includes(`${s} ${negateVp(vp, num)}`.toLowerCase())) denials++;
        }
        for (const f of e.facts) {
          const neg = `${s} ${negateVp(f.vp, num)}`.toLowerCase();
          if (lower.includes(neg)) contradictions.push(neg);
        }
      }
    }
    expect(contradictions).toEqual([]);
    expect(denials).toBeGreaterThan(50);
  });

  it('states each number of the table with the same value everywhere', () => {
    const mismatches: string[] = [];
    let found = 0;
    for (const e of ENTITIES) {
      for (const f of e.facts) {
        const m = /^(.*?)(\d+)/.exec(f.vp);
        if (!m) continue;
        for (const num of ['sg', 'pl'] as const) {
          const prefix = renderVp(m[1]!.trim(), num, 'present');
          const subject = num === 'pl' ? e.noun.pl : e.noun.sg;
          for (const hit of all.matchAll(new RegExp(`\\b${escape(subject)} ${escape(prefix)} (\\d+)`, 'gi'))) {
            found++;
            if (hit[1] !== m[2]) mismatches.push(hit[0]);
          }
        }
      }
    }
    expect(found).toBeGreaterThan(100);
    expect(mismatches).toEqual([]);
    expect(entity('water').facts[0]!.vp).toBe('boil at 100 °C at sea level');
  });

  it('gives every full date its true weekday', () => {
    const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
    const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
    let n = 0;
    for (const m of all.matchAll(/\b(Sunday|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday), (\d{1,2}) ([A-Z][a-z]+) (\d{4})\b/g)) {
      n++;
      const weekday = new Date(Date.UTC(Number(m[4]), months.indexOf(m[3]!), Number(m[2]))).getUTCDay();
      expect(days[weekday], m[0]).toBe(m[1]);
    }
    expect(n).toBeGreaterThan(100);
  });

  it('adds up its prices', () => {
    let n = 0;
    for (const m of all.matchAll(/\$(\d+) a day, so (\w+) days would be \$(\d+)/g)) {
      n++;
      const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven'];
      expect(Number(m[1]) * words.indexOf(m[2]!), m[0]).toBe(Number(m[3]));
    }
    for (const m of all.matchAll(/bought ([^.]*?), (?:which came to|so the total was|spending) \$(\d+)/g)) {
      n++;
      const sum = [...m[1]!.matchAll(/\$(\d+)/g)].reduce((a, x) => a + Number(x[1]), 0);
      expect(sum, m[0]).toBe(Number(m[2]));
    }
    expect(n).toBeGreaterThan(100);
  });
});
