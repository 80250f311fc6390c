// The demo datanets that `tributary up` seeds on a fresh devnet: plan.json, read and checked against the
// rules the seeder relies on, so that a mistake in the plan stops the demo with a message naming the entry
// instead of a contract revert half way through seeding. Accounts are anvil account indexes (the demo
// wallets are 5–9); stakes are wei.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { TributaryError } from '../../contracts/index.ts';

/** This folder: plan.json and one sub-folder of files per datanet slug. */
export const DEMO_DATANETS_DIR = fileURLToPath(new URL('.', import.meta.url));

/** The anvil accounts `tributary up` funds as demo wallets. */
export const DEMO_ACCOUNTS = [5, 6, 7, 8, 9] as const;

const MAX_UINT128 = (1n << 128n) - 1n;
const MAX_QUALITY = 10_000;

const account = z
  .number()
  .int()
  .refine((n) => (DEMO_ACCOUNTS as readonly number[]).includes(n), {
    error: (issue) => `account ${String(issue.input)} is not a demo wallet (${DEMO_ACCOUNTS.join(', ')})`,
  });

const wei = z
  .string()
  .regex(/^(0|[1-9][0-9]*)$/, 'must be a decimal string of wei with no sign, point or leading zero')
  .transform((s) => BigInt(s))
  .refine((v) => v <= MAX_UINT128, 'is above the uint128 the registry stores');

const review = z
  .object({
    accepted: z.boolean(),
    quality: z.number().int().min(0).max(MAX_QUALITY),
    by: account,
  })
  .strict();

const contribution = z
  .object({
    file: z.string().regex(/^[a-z0-9][a-z0-9-]*\.(txt|md|csv|jsonl)$/, 'must be a plain file name ending in .txt, .md, .csv or .jsonl'),
    contributor: account,
    phase: z.number().int().min(1),
    /** null leaves the contribution pending. */
    review: review.nullable(),
  })
  .strict();

const datanet = z
  .object({
    slug: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be lowercase words joined by hyphens'),
    metadata: z.object({ name: z.string().min(1), description: z.string().min(1) }).strict(),
    modality: z.string().min(1),
    license: z.string().min(1),
    requiredStake: wei,
    permissioned: z.boolean(),
    owner: account,
    curators: z.array(account),
    /** Model builders given access (permissioned datanets only). */
    grants: z.array(account),
    contributions: z.array(contribution).min(1),
    /** The phases after which a version is published. */
    versions: z.array(z.number().int().min(1)),
  })
  .strict();

export const demoPlanSchema = z.object({ datanets: z.array(datanet).min(1) }).strict();

export type DemoPlan = z.output<typeof demoPlanSchema>;
export type DemoDatanet = DemoPlan['datanets'][number];
export type DemoContribution = DemoDatanet['contributions'][number];
export type DemoReview = NonNullable<DemoContribution['review']>;

/** A plan.json that does not describe a demo the contracts would accept; `problems` lists every one. */
export class DemoPlanError extends TributaryError {
  override name = 'DemoPlanError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source} is not a valid demo plan`, { details: problems.join('\n  '), retryable: false });
  }
}

/** Checks a parsed plan.json value: its shape, then the role, phase and version rules. */
export function parseDemoPlan(value: unknown, source = 'plan.json'): DemoPlan {
  const parsed = demoPlanSchema.safeParse(value);
  if (!parsed.success) {
    throw new DemoPlanError(source, parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const problems = parsed.data.datanets.flatMap((d, i) => datanetProblems(d, `datanets.${i} (${d.slug})`));
  const slugs = parsed.data.datanets.map((d) => d.slug);
  slugs.forEach((s, i) => {
    if (slugs.indexOf(s) !== i) problems.push(`datanets.${i}: the slug "${s}" is used twice`);
  });
  if (problems.length > 0) throw new DemoPlanError(source, problems);
  return parsed.data;
}

function datanetProblems(d: DemoDatanet, at: string): string[] {
  const problems: string[] = [];
  // Distinct roles keep the demo legible: nobody reviews their own data or curates their own datanet.
  if (d.curators.includes(d.owner)) problems.push(`${at}: the owner ${d.owner} is also listed as a curator`);
  if (new Set(d.curators).size !== d.curators.length) problems.push(`${at}: a curator is listed twice`);
  if (d.grants.length > 0 && !d.permissioned) problems.push(`${at}: grants are given only on a permissioned datanet`);
  if (d.grants.includes(d.owner)) problems.push(`${at}: the owner ${d.owner} needs no grant`);
  const files = new Set<string>();
  d.contributions.forEach((c, j) => {
    const where = `${at}.contributions.${j} (${c.file})`;
    if (files.has(c.file)) problems.push(`${where}: the file is contributed twice`);
    files.add(c.file);
    if (c.contributor === d.owner || d.curators.includes(c.contributor)) {
      problems.push(`${where}: contributor ${c.contributor} is the datanet's owner or a curator`);
    }
    if (c.review && c.review.by !== d.owner && !d.curators.includes(c.review.by)) {
      problems.push(`${where}: reviewer ${c.review.by} is neither the owner ${d.owner} nor a curator`);
    }
  });
  const lastPhase = Math.max(...d.contributions.map((c) => c.phase));
  d.versions.forEach((p, k) => {
    if (k > 0 && p <= d.versions[k - 1]!) problems.push(`${at}.versions: phases must be strictly increasing, got ${d.versions.join(', ')}`);
    if (p > lastPhase) problems.push(`${at}.versions: phase ${p} has no contributions (the last phase is ${lastPhase})`);
    // A version's root is over accepted contributions; an empty root is refused by publishVersion.
    if (!d.contributions.some((c) => c.phase <= p && c.review?.accepted)) {
      problems.push(`${at}.versions: no contribution is accepted by phase ${p}, so version ${k + 1} would be empty`);
    }
  });
  return problems;
}

export interface ReadDemoPlanParameters {
  /** Defaults to DEMO_DATANETS_DIR. */
  dir?: string;
}

export interface DemoPlanWithFiles {
  plan: DemoPlan;
  /** The absolute path of a contribution's file. */
  pathOf(datanet: DemoDatanet, contribution: DemoContribution): string;
}

/**
 * Reads `<dir>/plan.json`, checks it, and checks that every file it names exists under `<dir>/<slug>/`
 * and that every file there is named (a stray file is most likely a contribution left out by mistake).
 */
export function readDemoPlan({ dir = DEMO_DATANETS_DIR }: ReadDemoPlanParameters = {}): DemoPlanWithFiles {
  const source = join(dir, 'plan.json');
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(source, 'utf8'));
  } catch (e) {
    throw new DemoPlanError(source, [`cannot be read as JSON: ${(e as Error).message}`]);
  }
  const plan = parseDemoPlan(value, source);
  const problems: string[] = [];
  for (const d of plan.datanets) {
    const folder = join(dir, d.slug);
    if (!existsSync(folder)) {
      problems.push(`${d.slug}: the folder ${folder} does not exist`);
      continue;
    }
    const named = new Set(d.contributions.map((c) => c.file));
    for (const f of named) if (!existsSync(join(folder, f))) problems.push(`${d.slug}: ${f} is in the plan but not in ${folder}`);
    for (const f of readdirSync(folder)) if (!named.has(f)) problems.push(`${d.slug}: ${f} is in ${folder} but not in the plan`);
  }
  if (problems.length > 0) throw new DemoPlanError(source, problems);
  return { plan, pathOf: (d, c) => join(dir, d.slug, c.file) };
}
