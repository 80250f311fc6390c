// The demo data `tributary up` seeds on a fresh devnet, through the same paths a user takes: datanets
// created by their owners' wallets, the files of demo/datanets/ uploaded over HTTP by the contributors'
// wallets (signed uploads, then the returned transactions signed and sent), curators' reviews with
// rejections, published versions and access grants. Which wallet does what: demo/datanets/plan.json.
import { readFileSync } from 'node:fs';
import { parseEther, type Address, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import {
  ANVIL_KEYS,
  InferenceRouterAbi,
  OpenTokenAbi,
  acceptedContributions,
  createDatanet,
  datanetMetadataURI,
  publishVersion,
  reviewContribution,
  setAccess,
  setCurator,
  type ChainContext,
} from '../contracts/index.ts';
import { datanetVersionRoot } from '../schema/index.ts';
import { readDemoPlan } from '../demo/datanets/plan.ts';
import { postContribution, sendContributionTransactions } from './contributionClient.ts';
import type { Logger } from './log.ts';

export interface SeedDemoParameters {
  chain: ChainContext;
  /** The running platform, e.g. http://127.0.0.1:4000. */
  baseUrl: string;
  log: Logger;
  /** The serving operator the demo payers let bill their escrow. */
  operator: Address;
  /** Default: demo/datanets/. */
  dir?: string;
}

/** Demo payers: anvil accounts that fund inference escrow and let the operator bill it. */
export const DEMO_PAYERS = [
  { account: 8, deposit: parseEther('1000'), operatorAllowance: parseEther('500') },
  { account: 9, deposit: parseEther('250'), operatorAllowance: parseEther('250') },
] as const;

export interface SeededDatanet {
  slug: string;
  datanetId: bigint;
  contributions: { file: string; contributionId: bigint; status: 'accepted' | 'rejected' | 'pending'; duplicateRows: number }[];
  versions: bigint[];
}

const key = (account: number): Hex => ANVIL_KEYS[account]!;

export async function seedDemo(p: SeedDemoParameters): Promise<SeededDatanet[]> {
  const { plan, pathOf } = readDemoPlan(p.dir === undefined ? {} : { dir: p.dir });
  const { chain, log } = p;
  const seeded: SeededDatanet[] = [];
  const started = Date.now();
  const phases = [...new Set(plan.datanets.flatMap((d) => d.contributions.map((c) => c.phase)))].sort((a, b) => a - b);

  for (const d of plan.datanets) {
    const created = await createDatanet(chain, {
      key: key(d.owner),
      metadataURI: datanetMetadataURI(d.metadata),
      modality: d.modality,
      license: d.license,
      requiredStake: d.requiredStake,
      permissioned: d.permissioned,
    });
    for (const curator of d.curators) await setCurator(chain, { key: key(d.owner), datanetId: created.datanetId, curator: addressOf(curator), enabled: true });
    for (const builder of d.grants) await setAccess(chain, { key: key(d.owner), datanetId: created.datanetId, account: addressOf(builder), granted: true });
    seeded.push({ slug: d.slug, datanetId: created.datanetId, contributions: [], versions: [] });
    log.info(`demo: created datanet ${created.datanetId} "${d.metadata.name}"`);
  }

  for (const phase of phases) {
    for (const [i, d] of plan.datanets.entries()) {
      const s = seeded[i]!;
      for (const c of d.contributions.filter((x) => x.phase === phase)) {
        const bytes = new Uint8Array(readFileSync(pathOf(d, c)));
        const upload = await postContribution({ baseUrl: p.baseUrl, chain, key: key(c.contributor), datanetId: s.datanetId, filename: c.file, bytes });
        const sent = await sendContributionTransactions(chain, key(c.contributor), upload);
        if (c.review) {
          await reviewContribution(chain, { key: key(c.review.by), contributionId: sent.contributionId, accepted: c.review.accepted, quality: c.review.quality });
        }
        const status = c.review ? (c.review.accepted ? 'accepted' : 'rejected') : 'pending';
        s.contributions.push({ file: c.file, contributionId: sent.contributionId, status, duplicateRows: upload.duplicateRows });
        log.info(
          `demo: ${c.file} → datanet ${s.datanetId} contribution ${sent.contributionId} (${upload.rowCount} rows, ${status}` +
            `${upload.duplicateRows ? `, ${upload.duplicateRows} rows copied from earlier contributions` : ''})`,
        );
      }
      if (d.versions.includes(phase)) {
        const members = await acceptedContributions(chain, { datanetId: s.datanetId });
        const v = await publishVersion(chain, {
          key: key(d.owner),
          datanetId: s.datanetId,
          root: datanetVersionRoot(members),
          contributionCount: BigInt(members.length),
          uri: '',
        });
        s.versions.push(v.version);
        log.info(`demo: published datanet ${s.datanetId} version ${v.version} (${members.length} contributions)`);
      }
    }
  }
  await fundPayers(chain, p.operator, log);
  log.info(`demo data seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`, { datanets: seeded.length, contributions: seeded.reduce((n, s) => n + s.contributions.length, 0) });
  return seeded;
}

const addressOf = (account: number) => privateKeyToAddress(key(account));

/** Each demo payer deposits OPEN into the router's escrow and approves the operator to bill part of it. */
async function fundPayers(chain: ChainContext, operator: Address, log: Logger): Promise<void> {
  const { OpenToken: token, InferenceRouter: router } = chain.deployment.contracts;
  for (const p of DEMO_PAYERS) {
    const wallet = chain.conn.wallet(key(p.account));
    const calls = [
      () => wallet.writeContract({ address: token, abi: OpenTokenAbi, functionName: 'approve', args: [router, p.deposit] }),
      () => wallet.writeContract({ address: router, abi: InferenceRouterAbi, functionName: 'deposit', args: [p.deposit] }),
      () => wallet.writeContract({ address: router, abi: InferenceRouterAbi, functionName: 'approveOperator', args: [operator, p.operatorAllowance] }),
    ];
    for (const call of calls) {
      const receipt = await chain.conn.publicClient.waitForTransactionReceipt({ hash: await call() });
      if (receipt.status !== 'success') throw new Error(`demo: payer ${wallet.account.address} transaction ${receipt.transactionHash} reverted`);
    }
    log.info(`demo: payer ${wallet.account.address} deposited ${p.deposit / 10n ** 18n} OPEN and lets the operator bill ${p.operatorAllowance / 10n ** 18n} OPEN`);
  }
}
