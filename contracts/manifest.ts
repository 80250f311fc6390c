// The deployment manifest: which contracts make up this deployment, on which chain, from which block.
// A deployment is identified by chain id and the deployment block's hash, never by code at an address:
// a fresh anvil puts new contracts at the same addresses.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { isAddress, isHash, type Address, type Hash } from 'viem';
import type { TributaryPublicClient } from './client.ts';
import { CONTRACT_NAMES, type ContractName } from './names.ts';

const address = z.string().refine((v) => isAddress(v, { strict: false }), 'not an address').transform((v) => v as Address);
const hash = z.string().refine((v) => isHash(v), 'not a 32-byte hash').transform((v) => v as Hash);

export const deploymentSchema = z.object({
  version: z.literal(1),
  chainId: z.number().int().positive(),
  deploymentBlock: z.object({ number: z.coerce.bigint(), hash }),
  deployer: address,
  contracts: z.object(Object.fromEntries(CONTRACT_NAMES.map((n) => [n, address])) as Record<ContractName, typeof address>),
  roles: z.object({
    treasury: address,
    operator: address,
    attributor: address,
    guardian: address,
    signers: z.array(address),
    signerThreshold: z.number().int().positive(),
  }),
  params: z.object({
    epochSeconds: z.number().int().positive(),
    disputeWindowSeconds: z.number().int().nonnegative(),
    timelockDelaySeconds: z.number().int().nonnegative(),
  }),
  demoAccounts: z.array(address),
  deployedAt: z.string(),
});

export type Deployment = z.infer<typeof deploymentSchema>;

export function readManifest(path: string): Deployment | undefined {
  if (!existsSync(path)) return undefined;
  const parsed = deploymentSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    throw new Error(`deployment manifest ${path} is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** Writes atomically (temp file + rename), so a crash never leaves half a manifest. */
export function writeManifest(path: string, d: Deployment): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(d, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
  renameSync(tmp, path);
}

export type ManifestCheck = { ok: true } | { ok: false; reason: string };

/** Whether `client`'s chain is the one `d` was deployed on: same chain id, same deployment block hash. */
export async function checkManifest(client: TributaryPublicClient, d: Deployment): Promise<ManifestCheck> {
  const chainId = await client.getChainId();
  if (chainId !== d.chainId) return { ok: false, reason: `chain id is ${chainId}, the manifest says ${d.chainId}` };
  const block = await client.getBlock({ blockNumber: d.deploymentBlock.number }).catch(() => undefined);
  if (!block) return { ok: false, reason: `the chain has no block ${d.deploymentBlock.number} (deployment block)` };
  if (block.hash !== d.deploymentBlock.hash) {
    return { ok: false, reason: `block ${d.deploymentBlock.number} has hash ${block.hash}, the manifest says ${d.deploymentBlock.hash}` };
  }
  return { ok: true };
}
