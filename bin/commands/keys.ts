// `tributary keys create --payer <address> [--label <text>]`: an API key that bills the payer's escrow.
// The payer signs a grant (api/keys/keyGrant.ts) with PAYER_KEY; with `tributary up` running the grant
// goes to it over HTTP (POST /keys), otherwise this process opens the operational store and checks the
// grant the same way. The secret is printed once.
import { Command, InvalidArgumentError, Option } from 'commander';
import { getAddress, isAddress, type Address } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { checkKeyGrant, keyGrantTypedData, type KeyGrantDomain } from '../../api/index.ts';
import { createApiKey, openPostgres } from '../../schema/index.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { openChainSession } from '../chainSession.ts';
import { runningUpPort } from '../runningUp.ts';
import { toJson, type DatanetCommandIo } from './datanet.ts';

function parseAddress(v: string): Address {
  if (!isAddress(v.trim())) throw new InvalidArgumentError(`--payer must be an 0x address, got "${v}"`);
  return getAddress(v.trim());
}

export function registerKeysCommand(program: Command, io: DatanetCommandIo = {}): Command {
  const out = io.out ?? ((t: string) => void process.stdout.write(t));
  const keys = program.command('keys').description('API keys that bill a payer');
  keys
    .command('create')
    .description("create an API key for a payer, signed by the payer's PAYER_KEY")
    .requiredOption('--payer <address>', 'the payer whose escrow the key spends', parseAddress)
    .option('--label <text>', 'a name to recognise the key by', '')
    .addOption(new Option('--json', 'print the key as JSON'))
    .action(async (o: { payer: Address; label: string; json?: boolean }) => {
      const c = loadConfig(io.env ?? process.env);
      const log = createLogger(c.logLevel, io.log);
      if (!c.payerKey) throw new ConfigError(["PAYER_KEY: required to sign `tributary keys create` when RPC_URL is set (the payer's private key, 0x-prefixed)"]);
      const account = privateKeyToAccount(c.payerKey);
      if (account.address !== o.payer) {
        throw new ConfigError([`PAYER_KEY belongs to ${account.address}, not to --payer ${o.payer}: only the payer can create its keys`]);
      }
      const session = await openChainSession(c, log);
      try {
        const domain: KeyGrantDomain = { chainId: session.deployment.chainId, router: session.deployment.contracts.InferenceRouter };
        const grant = { payer: o.payer, label: o.label, issuedAt: BigInt(Math.floor(Date.now() / 1000)) };
        const signature = await account.signTypedData(keyGrantTypedData(domain, grant));
        const port = runningUpPort(c.dataDir);
        let created: { id: string; key: string; prefix: string };
        if (port) {
          const res = await fetch(`http://127.0.0.1:${port}/keys`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ payer: grant.payer, label: grant.label, issuedAt: Number(grant.issuedAt), signature }),
          });
          const body = (await res.json()) as { error?: string; id: string; key: string; prefix: string };
          if (!res.ok) throw new ConfigError([`the running platform refused the key (HTTP ${res.status}): ${body.error ?? 'no reason given'}`]);
          created = body;
        } else {
          const check = await checkKeyGrant(domain, grant, signature);
          if (!check.ok) throw new ConfigError([check.reason]);
          const pg = await openPostgres({ url: c.databaseUrl, dataDir: c.dataDir, log: (m: string) => log.info(m) });
          try {
            const { secret, key } = await createApiKey(pg.db, { role: 'public', payerAddress: o.payer, label: o.label, grantDigest: check.digest });
            created = { id: key.id, key: secret, prefix: key.prefix };
          } finally {
            await pg.close();
          }
        }
        if (o.json) return out(toJson({ ...created, payer: o.payer, label: o.label }) + '\n');
        out(
          [
            `API key for payer ${o.payer}${o.label ? ` (${o.label})` : ''}:`,
            `  ${created.key}`,
            'It is shown only now: keep it. Use it as the OpenAI API key (Authorization: Bearer …); inferences are billed to the payer.',
          ].join('\n') + '\n',
        );
      } finally {
        await session.close();
      }
    });
  return keys;
}
