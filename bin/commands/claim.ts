// `tributary claim [--account <address>] [--json]`: claims what CONTRIBUTOR_KEY's account can claim now, or
// with --account anyone's (claimFor: the OPEN goes to that account, the key only pays the gas), with the
// proof of its leaf in the claimable payout batch (accountPayout: read from the chain and the batch files in
// the data dir's content store). It opens no database, only the content store's plain files, so it runs the
// same beside a running `tributary up` (whose chain it then uses).
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { getAddress, isAddress, type Address } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { TributaryError, claimPayout, claimPayoutFor, formatOpen, getSettlementState, type ClaimedPayout } from '../../contracts/index.ts';
import { ContentStoreError, openFsContentStore, type ContentStore } from '../../schema/index.ts';
import { accountPayout, type AccountPayout } from '../../attribution/index.ts';
import { proofsJson } from '../../attribution/index.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { openChainSession, type ChainSession } from '../chainSession.ts';
import { toJson, type DatanetCommandIo } from './datanet.ts';

function parseAccount(v: string): Address {
  if (!isAddress(v.trim(), { strict: false })) throw new InvalidArgumentError(`"${v}" is not an address (0x followed by 40 hex digits)`);
  return getAddress(v.trim());
}

const iso = (unixSeconds: bigint) => new Date(Number(unixSeconds) * 1000).toISOString();

/** accountPayout, with the content store's own errors (not TributaryErrors) said as one. */
async function payoutOf(session: ChainSession, content: ContentStore, root: string, account: Address): Promise<AccountPayout> {
  try {
    return await accountPayout(session, content, account);
  } catch (e) {
    if (e instanceof ContentStoreError) throw new TributaryError(`cannot read the payout batch files in ${root}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** The lines `tributary claim` prints. */
export function claimSummary(p: AccountPayout, claim: ClaimedPayout | undefined, why: { claimableEpoch: bigint }): string {
  const who = p.account;
  const lines: string[] = [];
  if (claim) {
    const by = claim.caller.toLowerCase() === who.toLowerCase() ? '' : ` (sent by ${claim.caller}, who paid the gas)`;
    lines.push(`claimed ${formatOpen(claim.amount)} for ${who}${by} against epoch ${claim.epoch}'s payout batch in tx ${claim.txHash} (block ${claim.blockNumber})`);
    lines.push(`  ${who} has claimed ${formatOpen(claim.cumulativeClaimed)} in total`);
  } else if (p.claimable) {
    lines.push(`nothing to claim for ${who}: the ${formatOpen(p.claimable.cumulative)} it earned up to epoch ${p.claimable.epoch}'s payout batch are claimed already`);
  } else if (why.claimableEpoch === 0n) {
    lines.push(`nothing to claim for ${who}: no payout batch is claimable yet`);
  } else {
    lines.push(`nothing to claim for ${who}: it earned nothing up to epoch ${why.claimableEpoch}'s payout batch${p.claimed > 0n ? ` (it has claimed ${formatOpen(p.claimed)} in total)` : ''}`);
  }
  if (p.pending) {
    const claimed = claim ? claim.cumulativeClaimed : p.claimed;
    const leaf = p.claimable?.cumulative ?? 0n;
    const floor = claimed > leaf ? claimed : leaf;
    const more = p.pending.cumulative > floor ? p.pending.cumulative - floor : 0n;
    lines.push(`  pending: ${formatOpen(more)} more in epoch ${p.pending.epoch}'s payout batch, in its dispute window until ${iso(p.pending.claimableAt)}; claim again after that`);
  }
  return lines.join('\n') + '\n';
}

export function registerClaimCommand(program: Command, io: DatanetCommandIo = {}): Command {
  const out = io.out ?? ((t: string) => void process.stdout.write(t));
  return program
    .command('claim')
    .description("claim attribution rewards: the account's leaf in the claimable payout batch, minus what it claimed, signed with CONTRIBUTOR_KEY")
    .option('--account <address>', "claim for this account instead (claimFor: the OPEN goes to it; CONTRIBUTOR_KEY's account pays the gas)", parseAccount)
    .addOption(new Option('--json', 'print the account, what it claimed and can claim, with the proof, and the claim as JSON (amounts in wei)'))
    .action(async (o: { account?: Address; json?: boolean }) => {
      const c = loadConfig(io.env ?? process.env);
      const log = createLogger(c.logLevel, io.log);
      const key = c.contributorKey;
      if (!key) throw new ConfigError(["CONTRIBUTOR_KEY: required to sign `tributary claim` when RPC_URL is set (the contributor's private key, 0x-prefixed; with --account, any funded key)"]);
      const signer = privateKeyToAddress(key);
      const account = o.account ?? signer;
      const session = await openChainSession(c, log);
      try {
        const root = join(c.dataDir, 'content');
        const content = await openFsContentStore({ root });
        const before = await payoutOf(session, content, root, account);
        let claim: ClaimedPayout | undefined;
        if (before.claimableNow > 0n && before.claimable) {
          const { cumulative, proof } = before.claimable;
          claim =
            account.toLowerCase() === signer.toLowerCase()
              ? await claimPayout(session, { key, cumulativeAmount: cumulative, proof })
              : await claimPayoutFor(session, { key, account, cumulativeAmount: cumulative, proof });
        }
        const after: AccountPayout = claim ? { ...before, claimed: claim.cumulativeClaimed, claimableNow: 0n } : before;
        if (o.json) {
          const sent = claim && { txHash: claim.txHash, blockNumber: claim.blockNumber, epoch: claim.epoch, caller: claim.caller.toLowerCase(), amount: claim.amount };
          return out(toJson({ ...proofsJson(after), claim: sent ?? null }) + '\n');
        }
        const { claimableEpoch } = claim ? { claimableEpoch: claim.epoch } : await getSettlementState(session);
        out(claimSummary(after, claim, { claimableEpoch }));
      } finally {
        await session.close();
      }
    });
}
