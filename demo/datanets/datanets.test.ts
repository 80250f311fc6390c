import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRows, rowHash, type Row, type TextLabelRow, type PromptCompletionRow, type TextRow } from '../../schema/index.ts';
import { DEMO_DATANETS_DIR, DemoPlanError, parseDemoPlan, readDemoPlan, type DemoContribution, type DemoDatanet } from './plan.ts';

const { plan, pathOf } = readDemoPlan();
const parsed = new Map<string, Row[]>();
function rowsOf(d: DemoDatanet, c: DemoContribution): Row[] {
  const key = `${d.slug}/${c.file}`;
  if (!parsed.has(key)) parsed.set(key, parseRows({ bytes: readFileSync(pathOf(d, c)), filename: c.file }).rows);
  return parsed.get(key)!;
}
const datanet = (slug: string) => plan.datanets.find((d) => d.slug === slug)!;
/** Contributions in the order the demo submits them: by phase, then as listed. */
const submissionOrder = (d: DemoDatanet) => [...d.contributions].sort((a, b) => a.phase - b.phase);

describe('demo/datanets plan.json', () => {
  it('describes the three datanets with their owners, curators, stakes and versions', () => {
    expect(
      plan.datanets.map((d) => ({
        slug: d.slug,
        owner: d.owner,
        curators: d.curators,
        grants: d.grants,
        permissioned: d.permissioned,
        requiredStake: d.requiredStake,
        license: d.license,
        versions: d.versions,
        contributors: [...new Set(d.contributions.map((c) => c.contributor))].sort(),
      })),
    ).toEqual([
      { slug: 'coastal-ecology', owner: 7, curators: [8], grants: [], permissioned: false, requiredStake: 10n ** 19n, license: 'CC-BY-4.0', versions: [1, 2], contributors: [5, 6, 9] },
      { slug: 'kitchen-science', owner: 8, curators: [7], grants: [], permissioned: false, requiredStake: 0n, license: 'CC-BY-4.0', versions: [1, 2], contributors: [5, 6, 9] },
      { slug: 'support-sentiment', owner: 7, curators: [8], grants: [9], permissioned: true, requiredStake: 5n * 10n ** 18n, license: 'CC-BY-4.0', versions: [1], contributors: [5, 6] },
    ]);
  });

  it('marks the deliberate defects: one rejected file, one pending file, and a second phase', () => {
    const all = plan.datanets.flatMap((d) => d.contributions.map((c) => ({ slug: d.slug, ...c })));
    expect(all.filter((c) => c.review?.accepted === false).map((c) => [c.slug, c.file, c.review!.quality])).toEqual([['coastal-ecology', 'beach-deals.txt', 500]]);
    expect(all.filter((c) => c.review === null).map((c) => [c.slug, c.file])).toEqual([['coastal-ecology', 'mangroves.txt']]);
    expect(all.filter((c) => c.phase === 2).map((c) => [c.slug, c.file, c.contributor])).toEqual([
      ['coastal-ecology', 'seabirds-of-the-shore.txt', 5],
      ['coastal-ecology', 'mangroves.txt', 9],
      ['kitchen-science', 'fermentation-and-leavening.jsonl', 6],
    ]);
  });

  it('parseDemoPlan() names every broken role, version and stake rule at once', () => {
    const broken = JSON.parse(readFileSync(join(DEMO_DATANETS_DIR, 'plan.json'), 'utf8'));
    const d = broken.datanets[0];
    d.contributions[0].review.by = 5; // the contributor reviewing their own file
    d.contributions[1].contributor = 8; // a curator contributing
    d.grants = [9]; // a grant on an open datanet
    d.versions = [2, 3];
    broken.datanets[1].requiredStake = '1.5';
    let error: unknown;
    try {
      parseDemoPlan(broken, 'broken.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DemoPlanError);
    expect((error as DemoPlanError).problems).toEqual(['datanets.1.requiredStake: must be a decimal string of wei with no sign, point or leading zero']);

    broken.datanets[1].requiredStake = '0';
    try {
      parseDemoPlan(broken, 'broken.json');
    } catch (e) {
      error = e;
    }
    expect((error as DemoPlanError).problems).toEqual([
      'datanets.0 (coastal-ecology): grants are given only on a permissioned datanet',
      'datanets.0 (coastal-ecology).contributions.0 (tide-pools-and-tides.txt): reviewer 5 is neither the owner 7 nor a curator',
      "datanets.0 (coastal-ecology).contributions.1 (kelp-forests-and-sea-otters.txt): contributor 8 is the datanet's owner or a curator",
      'datanets.0 (coastal-ecology).versions: phase 3 has no contributions (the last phase is 2)',
    ]);
    expect((error as DemoPlanError).retryable).toBe(false);
  });

  it('parseDemoPlan() refuses an account that is not a demo wallet and a version with nothing accepted', () => {
    const broken = JSON.parse(readFileSync(join(DEMO_DATANETS_DIR, 'plan.json'), 'utf8'));
    broken.datanets[2].owner = 3;
    expect(() => parseDemoPlan(broken)).toThrow('datanets.2.owner: account 3 is not a demo wallet (5, 6, 7, 8, 9)');
    broken.datanets[2].owner = 7;
    broken.datanets[2].contributions.forEach((c: { review: unknown }) => (c.review = null));
    expect(() => parseDemoPlan(broken)).toThrow('no contribution is accepted by phase 1, so version 1 would be empty');
  });

  describe('readDemoPlan() on a copy of the folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-demo-plan-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('refuses a plan whose file is missing and a folder holding a file the plan does not name', () => {
      for (const d of plan.datanets) {
        mkdirSync(join(dir, d.slug));
        for (const c of d.contributions) writeFileSync(join(dir, d.slug, c.file), readFileSync(pathOf(d, c)));
      }
      writeFileSync(join(dir, 'plan.json'), readFileSync(join(DEMO_DATANETS_DIR, 'plan.json')));
      expect(readDemoPlan({ dir }).plan).toEqual(plan);

      rmSync(join(dir, 'kitchen-science', 'salt-sugar-and-acid.jsonl'));
      writeFileSync(join(dir, 'kitchen-science', 'extra.jsonl'), '{"text":"x"}\n');
      try {
        readDemoPlan({ dir });
        expect.unreachable('readDemoPlan should throw');
      } catch (e) {
        expect((e as DemoPlanError).problems).toEqual([
          `kitchen-science: salt-sugar-and-acid.jsonl is in the plan but not in ${join(dir, 'kitchen-science')}`,
          `kitchen-science: extra.jsonl is in ${join(dir, 'kitchen-science')} but not in the plan`,
        ]);
      }
    });
  });
});

describe('demo/datanets files', () => {
  it('every file parses with parseRows() into the row counts the README states', () => {
    const counts = plan.datanets.flatMap((d) =>
      d.contributions.map((c) => {
        const r = parseRows({ bytes: readFileSync(pathOf(d, c)), filename: c.file });
        return [`${d.slug}/${c.file}`, r.format, r.shape, r.rows.length];
      }),
    );
    expect(counts).toEqual([
      ['coastal-ecology/tide-pools-and-tides.txt', 'text', 'text', 74],
      ['coastal-ecology/kelp-forests-and-sea-otters.txt', 'text', 'text', 70],
      ['coastal-ecology/reefs-and-estuaries.txt', 'text', 'text', 68],
      ['coastal-ecology/beach-deals.txt', 'text', 'text', 15],
      ['coastal-ecology/seabirds-of-the-shore.txt', 'text', 'text', 21],
      ['coastal-ecology/mangroves.txt', 'text', 'text', 20],
      ['kitchen-science/heat-and-browning.jsonl', 'jsonl', 'prompt-completion', 50],
      ['kitchen-science/emulsions-and-dough.jsonl', 'jsonl', 'prompt-completion', 48],
      ['kitchen-science/salt-sugar-and-acid.jsonl', 'jsonl', 'prompt-completion', 50],
      ['kitchen-science/fermentation-and-leavening.jsonl', 'jsonl', 'prompt-completion', 28],
      ['support-sentiment/service-desk.csv', 'csv', 'text-label', 63],
      ['support-sentiment/orders-and-rentals.csv', 'csv', 'text-label', 60],
    ]);
  });

  it('the only repeated rows are the ten that seabirds-of-the-shore.txt copies from an earlier contributor', () => {
    const repeats: [string, string, string][] = [];
    for (const d of plan.datanets) {
      const owner = new Map<string, DemoContribution>();
      for (const c of submissionOrder(d)) {
        for (const row of rowsOf(d, c)) {
          const h = rowHash(row);
          const first = owner.get(h);
          if (first) repeats.push([d.slug, c.file, first.file]);
          else owner.set(h, c);
        }
      }
    }
    expect(repeats).toEqual(Array(10).fill(['coastal-ecology', 'seabirds-of-the-shore.txt', 'kelp-forests-and-sea-otters.txt']));
    const coastal = datanet('coastal-ecology');
    const [copier, original] = ['seabirds-of-the-shore.txt', 'kelp-forests-and-sea-otters.txt'].map((f) => coastal.contributions.find((c) => c.file === f)!);
    expect(copier!.contributor).not.toBe(original!.contributor);
    expect(copier!.phase).toBeGreaterThan(original!.phase);
  });

  it('coastal-ecology rows are single sentences, apart from the rejected spam file', () => {
    const d = datanet('coastal-ecology');
    const odd = d.contributions
      .filter((c) => c.file !== 'beach-deals.txt')
      .flatMap((c) => (rowsOf(d, c) as TextRow[]).filter((r) => !/^[A-Z].*[a-z0-9)]\.$/.test(r.text) || /[.!?] [A-Z]/.test(r.text)).map((r) => `${c.file}: ${r.text}`));
    expect(odd).toEqual([]);
  });

  it('kitchen-science prompts are questions and completions are one or two sentences', () => {
    const d = datanet('kitchen-science');
    const odd = d.contributions.flatMap((c) =>
      (rowsOf(d, c) as PromptCompletionRow[])
        .filter((r) => !r.prompt.endsWith('?') || !r.completion.endsWith('.') || r.completion.split(/(?<=[.!?]) (?=[A-Z])/).length > 2)
        .map((r) => `${c.file}: ${r.prompt}`),
    );
    expect(odd).toEqual([]);
  });

  it('support-sentiment labels are positive, negative or neutral, balanced within each file', () => {
    const d = datanet('support-sentiment');
    const tally = d.contributions.map((c) => {
      const t: Record<string, number> = {};
      for (const r of rowsOf(d, c) as TextLabelRow[]) t[r.label] = (t[r.label] ?? 0) + 1;
      return [c.file, t];
    });
    expect(tally).toEqual([
      ['service-desk.csv', { positive: 21, negative: 21, neutral: 21 }],
      ['orders-and-rentals.csv', { positive: 20, negative: 20, neutral: 20 }],
    ]);
  });

  it('some facts occur in only one contributor’s rows (what attribution should trace back)', () => {
    const where = (slug: string, needle: string) => {
      const d = datanet(slug);
      return d.contributions.filter((c) => rowsOf(d, c).some((r) => JSON.stringify(r).toLowerCase().includes(needle.toLowerCase()))).map((c) => c.file);
    };
    expect(where('coastal-ecology', 'Bay of Fundy')).toEqual(['tide-pools-and-tides.txt']);
    expect(where('coastal-ecology', "Steller's sea cow")).toEqual(['kelp-forests-and-sea-otters.txt']);
    expect(where('coastal-ecology', 'Great Barrier Reef')).toEqual(['reefs-and-estuaries.txt']);
    expect(where('coastal-ecology', 'Sundarbans')).toEqual(['mangroves.txt']);
    expect(where('coastal-ecology', 'wandering albatross')).toEqual(['seabirds-of-the-shore.txt']);
    expect(where('kitchen-science', 'Mount Everest')).toEqual(['heat-and-browning.jsonl']);
    expect(where('kitchen-science', 'glutenin')).toEqual(['emulsions-and-dough.jsonl']);
    expect(where('kitchen-science', 'minus 21 °C')).toEqual(['salt-sugar-and-acid.jsonl']);
    expect(where('kitchen-science', 'SCOBY')).toEqual(['fermentation-and-leavening.jsonl']);
    expect(where('support-sentiment', 'Priya')).toEqual(['service-desk.csv']);
    expect(where('support-sentiment', 'Marco')).toEqual(['orders-and-rentals.csv']);
    // ...while topics overlap: sea otters and shore birds appear in more than one coastal file.
    expect(where('coastal-ecology', 'sea otter').length).toBeGreaterThanOrEqual(3);
    expect(where('coastal-ecology', 'shorebirds').length).toBeGreaterThanOrEqual(3);
    expect(where('kitchen-science', 'caramelis').length).toBeGreaterThanOrEqual(2);
  });

  it('the whole folder stays under 200 KB', () => {
    const size = (p: string): number => (statSync(p).isDirectory() ? readdirSync(p).reduce((s, f) => s + size(join(p, f)), 0) : statSync(p).size);
    expect(size(DEMO_DATANETS_DIR)).toBeLessThan(200 * 1024);
  });
});
