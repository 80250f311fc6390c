// `tributary datanet create|review|publish|grant`: the owner's and curators' verbs. Each signs one
// DatanetRegistry transaction (two when a fee must be approved first) and prints a one-line summary,
// or the decoded result with --json. Reverts are reported before anything is signed.
import { Command, InvalidArgumentError, Option } from 'commander';
import { getAddress, isAddress, type Address, type Hex } from 'viem';
import {
  ChainError,
  acceptedContributions,
  createDatanet,
  datanetMetadataURI,
  formatOpen,
  getDatanet,
  parseOpen,
  publishVersion,
  reviewContribution,
  setAccess,
  setCurator,
  type TxResult,
} from '../../contracts/index.ts';
import { datanetVersionRoot } from '../../schema/index.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
import { openChainSession, type ChainSession } from '../chainSession.ts';

/** Where the verbs read configuration and write results; tests run them in-process with their own. */
export interface DatanetCommandIo {
  env?: Record<string, string | undefined>;
  /** Results (stdout). */
  out?: (text: string) => void;
  /** Log lines (stderr). */
  log?: (line: string) => void;
}

// ------------------------------------------------------------ argument parsing

function parseId(what: string) {
  return (v: string): bigint => {
    if (!/^\d+$/.test(v.trim()) || BigInt(v.trim()) === 0n) throw new InvalidArgumentError(`${what} must be a positive integer, got "${v}"`);
    return BigInt(v.trim());
  };
}

function parseAddress(v: string): Address {
  if (!isAddress(v.trim(), { strict: false })) throw new InvalidArgumentError(`"${v}" is not an address (0x followed by 40 hex digits)`);
  return getAddress(v.trim());
}

function parseStake(v: string): bigint {
  try {
    const wei = parseOpen(v);
    if (wei >= 2n ** 128n) throw new RangeError(`"${v}" is more OPEN than a stake can hold`);
    return wei;
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function parseQuality(v: string): number {
  const q = Number(v.trim());
  if (!/^\d+$/.test(v.trim()) || q > 10_000) throw new InvalidArgumentError(`quality is 0 to 10000 basis points (10000 = 100%), got "${v}"`);
  return q;
}

function nonEmpty(what: string) {
  return (v: string): string => {
    if (v.trim() === '') throw new InvalidArgumentError(`${what} must not be empty`);
    return v;
  };
}

// ------------------------------------------------------------------- output

const gas = (g: bigint) => `${g.toLocaleString('en-US')} gas`;
const inTx = (r: TxResult) => `in tx ${r.txHash} (block ${r.blockNumber}, ${gas(r.gasUsed)})`;

/** JSON with bigints as decimal strings (amounts stay exact wei). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

// -------------------------------------------------------------------- keys

const KEY_ENV = {
  owner: { env: 'OWNER_KEY', who: "the datanet owner's private key" },
  curator: { env: 'CURATOR_KEY', who: "a curator's or the datanet owner's private key (OWNER_KEY is used when CURATOR_KEY is unset)" },
} as const;

/** The signing key a verb needs; on a remote chain it must be given (the devnet defaults are public keys). */
function signingKey(c: Config, role: keyof typeof KEY_ENV, verb: string): Hex {
  const key = role === 'owner' ? c.ownerKey : c.curatorKey;
  if (key) return key;
  const { env, who } = KEY_ENV[role];
  throw new ConfigError([`${env}: required to sign \`tributary datanet ${verb}\` when RPC_URL is set (${who}, 0x-prefixed)`]);
}

// ------------------------------------------------------------------ the verbs

export function registerDatanetCommand(program: Command, io: DatanetCommandIo = {}): Command {
  const out = io.out ?? ((t: string) => void process.stdout.write(t));
  const setup = () => {
    const c = loadConfig(io.env ?? process.env);
    return { c, log: createLogger(c.logLevel, io.log) };
  };
  /** Runs `f` on a chain session that is closed afterwards, whatever happens. */
  const onChain = async <T>(c: Config, log: Logger, f: (s: ChainSession) => Promise<T>): Promise<T> => {
    const session = await openChainSession(c, log);
    try {
      return await f(session);
    } finally {
      await session.close();
    }
  };
  const jsonOption = () => new Option('--json', 'print the result as JSON (amounts in wei, as decimal strings)');

  const datanet = program
    .command('datanet')
    .description('create datanets, review contributions, publish versions and grant access (signed transactions)');

  datanet
    .command('create')
    .description('create a datanet owned by OWNER_KEY')
    .requiredOption('--name <name>', 'its name, kept on-chain in the metadata URI', nonEmpty('--name'))
    .option('--description <text>', 'a longer description, kept with the name')
    .option('--modality <kind>', 'the kind of data it holds', nonEmpty('--modality'), 'text')
    .option('--license <spdx>', 'the license contributions are made under', nonEmpty('--license'), 'CC-BY-4.0')
    .option('--stake <OPEN>', 'OPEN each contribution must lock, e.g. 10 or 0.5 (default: 0, no stake)', parseStake)
    .option('--permissioned', 'only the owner and granted builders may train on it (default: open to all)')
    .addOption(jsonOption())
    .action(async (o: { name: string; description?: string; modality: string; license: string; stake?: bigint; permissioned?: boolean; json?: boolean }) => {
      const { c, log } = setup();
      const key = signingKey(c, 'owner', 'create');
      const r = await onChain(c, log, (s) =>
        createDatanet(s, {
          key,
          metadataURI: datanetMetadataURI({ name: o.name, description: o.description }),
          modality: o.modality,
          license: o.license,
          requiredStake: o.stake ?? 0n,
          permissioned: o.permissioned ?? false,
        }),
      );
      if (o.json) return out(toJson({ name: o.name, ...r }) + '\n');
      const stake = r.requiredStake === 0n ? 'no stake' : `stake ${formatOpen(r.requiredStake)}`;
      const lines = [`created datanet ${r.datanetId} "${o.name}" (${stake}, ${r.permissioned ? 'permissioned' : 'open to all'}) owned by ${r.owner} ${inTx(r)}`];
      if (r.feePaid > 0n) lines.push(`  paid the creation fee of ${formatOpen(r.feePaid)} to the treasury`);
      if (r.approval) lines.push(`  approved the fee first ${inTx(r.approval)}`);
      out(lines.join('\n') + '\n');
    });

  datanet
    .command('review')
    .description('accept or reject a pending contribution, signing with CURATOR_KEY')
    .argument('<contributionId>', 'the contribution to review', parseId('contributionId'))
    .addOption(new Option('--accept', 'accept it into the datanet').conflicts('reject'))
    .addOption(new Option('--reject', 'reject it').conflicts('accept'))
    .option('--quality <bps>', 'quality score in basis points, 0-10000 (default: 10000 when accepting, 0 when rejecting)', parseQuality)
    .addOption(jsonOption())
    .action(async (contributionId: bigint, o: { accept?: boolean; reject?: boolean; quality?: number; json?: boolean }, cmd: Command) => {
      if (!o.accept && !o.reject) cmd.error('error: say --accept or --reject');
      const accepted = o.accept === true;
      const { c, log } = setup();
      const key = signingKey(c, 'curator', 'review');
      const quality = o.quality ?? (accepted ? 10_000 : 0);
      const r = await onChain(c, log, (s) => reviewContribution(s, { key, contributionId, accepted, quality }));
      if (o.json) return out(toJson(r) + '\n');
      const pct = `${(r.quality / 100).toFixed(2).replace(/\.?0+$/, '')}%`;
      out(`${r.accepted ? 'accepted' : 'rejected'} contribution ${r.contributionId} of datanet ${r.datanetId} with quality ${r.quality} (${pct}) ${inTx(r)}\n`);
    });

  datanet
    .command('publish')
    .description("publish the next version of a datanet: the Merkle root of its accepted contributions, signing with OWNER_KEY")
    .argument('<datanetId>', 'the datanet to publish', parseId('datanetId'))
    .option('--uri <uri>', 'where the version is described (default: a data: URI naming the block its membership was read at)')
    .addOption(jsonOption())
    .action(async (datanetId: bigint, o: { uri?: string; json?: boolean }) => {
      const { c, log } = setup();
      const key = signingKey(c, 'owner', 'publish');
      const action = `cannot publish a version of datanet ${datanetId}`;
      const { r, asOfBlock, members } = await onChain(c, log, async (s) => {
        await getDatanet(s, datanetId, action); // "datanet N does not exist" rather than "no accepted contributions"
        // Membership is read at one block and recorded with the version, so anyone can rebuild the root.
        const asOfBlock = await s.conn.publicClient.getBlockNumber();
        const members = await acceptedContributions(s, { datanetId, toBlock: asOfBlock });
        if (members.length === 0) {
          throw new ChainError(`${action}: it has no accepted contributions (as of block ${asOfBlock})`, {
            details: 'accept some first: tributary datanet review <contributionId> --accept',
          });
        }
        const uri = o.uri ?? 'data:application/json,' + encodeURIComponent(JSON.stringify({ acceptedAsOfBlock: asOfBlock.toString() }));
        const r = await publishVersion(s, { key, datanetId, root: datanetVersionRoot(members), contributionCount: BigInt(members.length), uri });
        return { r, asOfBlock, members };
      });
      if (o.json) return out(toJson({ ...r, acceptedAsOfBlock: asOfBlock, contributionIds: members.map((m) => m.contributionId) }) + '\n');
      const n = `${r.contributionCount} accepted contribution${r.contributionCount === 1n ? '' : 's'}`;
      out(`published version ${r.version} of datanet ${r.datanetId}: ${n} as of block ${asOfBlock}, root ${r.root} ${inTx(r)}\n`);
    });

  datanet
    .command('grant')
    .description('grant (or --revoke) a model builder access to a permissioned datanet, or with --curator make a curator; signs with OWNER_KEY')
    .argument('<datanetId>', 'the datanet', parseId('datanetId'))
    .argument('<address>', 'the account to grant or revoke', parseAddress)
    .option('--revoke', 'take the access (or the curator role) away')
    .option('--curator', 'grant the curator role (may review contributions) instead of training access')
    .addOption(jsonOption())
    .action(async (datanetId: bigint, account: Address, o: { revoke?: boolean; curator?: boolean; json?: boolean }) => {
      const { c, log } = setup();
      const key = signingKey(c, 'owner', 'grant');
      const enable = !o.revoke;
      if (o.curator) {
        const r = await onChain(c, log, (s) => setCurator(s, { key, datanetId, curator: account, enabled: enable }));
        if (o.json) return out(toJson({ role: 'curator', ...r }) + '\n');
        return out(`${r.enabled ? `made ${r.curator} a curator of` : `removed ${r.curator} as a curator of`} datanet ${r.datanetId} ${inTx(r)}\n`);
      }
      const { r, permissioned } = await onChain(c, log, async (s) => {
        const r = await setAccess(s, { key, datanetId, account, granted: enable });
        return { r, permissioned: (await getDatanet(s, datanetId)).permissioned };
      });
      if (o.json) return out(toJson({ role: 'access', ...r, permissioned }) + '\n');
      const lines = [`${r.granted ? `granted ${r.account} access to` : `revoked the access of ${r.account} to`} datanet ${r.datanetId} ${inTx(r)}`];
      if (!permissioned) lines.push(`  note: datanet ${r.datanetId} is open to all, so anyone may train on it whatever is granted`);
      out(lines.join('\n') + '\n');
    });

  return datanet;
}
