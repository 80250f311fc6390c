// The local devnet: anvil from npm with its state in the data dir (so it survives restarts), and a
// deployment that is reused while the chain still has its deployment block, redeployed otherwise.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Address, Hex } from 'viem';
import { startAnvil, type Anvil } from './anvil.ts';
import { connectChain, type ChainConnection } from './client.ts';
import { deployProtocol, addressOf, type DeployParams } from './deploy.ts';
import { checkManifest, readManifest, writeManifest, type Deployment } from './manifest.ts';
import { DevnetError } from './errors.ts';
import { ANVIL_KEYS } from './anvilKeys.ts';

export interface DevnetOptions {
  dataDir: string;
  /** Use this chain instead of spawning anvil. */
  rpcUrl?: string;
  chainId?: number;
  deployerKey: Hex;
  operatorKey: Hex;
  attributorKey: Hex;
  signerKeys: Hex[];
  signerThreshold: number;
  /** Guardian who may revoke payout batches (default: anvil account 4 on the devnet, else the deployer). */
  guardian?: Address;
  epochSeconds: number;
  disputeWindowSeconds: number;
  /** Fund the demo accounts (anvil accounts 5–9) with OPEN at deployment (default: on the devnet only). */
  demo?: boolean;
  /** Extra deployment parameters (tests shorten delays with these). */
  deploy?: Partial<DeployParams>;
  log?: (message: string) => void;
}

export interface Devnet {
  rpcUrl: string;
  conn: ChainConnection;
  deployment: Deployment;
  /** Whether this start deployed the contracts (false: the manifest was reused). */
  deployed: boolean;
  /** Stops anvil if this process spawned it. */
  stop(): Promise<void>;
}

/** Demo accounts funded with OPEN on the devnet: anvil accounts 5–9. */
export const DEMO_KEYS = ANVIL_KEYS.slice(5) as Hex[];

export function manifestPath(dataDir: string): string {
  return join(dataDir, 'deployment.json');
}

function lockPath(dataDir: string): string {
  return join(dataDir, 'devnet', 'anvil.pid');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopOrphan(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (alive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts (or connects to) the chain and makes sure the protocol is deployed on it. */
export async function startDevnet(o: DevnetOptions): Promise<Devnet> {
  const log = o.log ?? (() => {});
  let anvil: Anvil | undefined;
  let rpcUrl = o.rpcUrl;
  if (!rpcUrl) {
    // Two anvils on one state file would overwrite each other's dumps.
    const lock = lockPath(o.dataDir);
    if (existsSync(lock)) {
      // "anvilPid ownerPid": an anvil whose owner died without stopping it (a crash, kill -9) is an
      // orphan holding the state file; stop it (SIGTERM, so it dumps its state) and carry on.
      const [pid, owner] = readFileSync(lock, 'utf8').trim().split(/\s+/).map(Number);
      if (pid && alive(pid)) {
        if (owner && !alive(owner)) {
          log(`stopping anvil pid ${pid} left running by process ${owner}, which is gone`);
          await stopOrphan(pid);
        } else {
          throw new DevnetError(`a devnet for ${o.dataDir} is already running (anvil pid ${pid})`, {
            details: 'stop it first, or point TRIBUTARY_DATA_DIR at another directory',
          });
        }
      }
    }
    const stateFile = join(o.dataDir, 'devnet', 'anvil-state.json');
    log(existsSync(stateFile) ? `starting anvil from saved state ${stateFile}` : 'starting a fresh anvil');
    anvil = await startAnvil({ stateFile, chainId: o.chainId });
    mkdirSync(join(o.dataDir, 'devnet'), { recursive: true });
    writeFileSync(lock, `${anvil.pid} ${process.pid}`);
    rpcUrl = anvil.rpcUrl;
    log(`anvil listening on ${rpcUrl}`);
  }
  const stop = async () => {
    if (anvil) {
      await anvil.stop();
      rmSync(lockPath(o.dataDir), { force: true });
    }
  };
  try {
    const conn = await connectChain(rpcUrl, { expectedChainId: o.chainId });
    const { deployment, deployed } = await ensureDeployment(conn, o, log);
    return { rpcUrl, conn, deployment, deployed, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Reuses the manifest when the chain still has its deployment block with the same hash; else deploys. */
export async function ensureDeployment(
  conn: ChainConnection,
  o: DevnetOptions,
  log: (m: string) => void = () => {},
): Promise<{ deployment: Deployment; deployed: boolean }> {
  const path = manifestPath(o.dataDir);
  const existing = readManifest(path);
  if (existing) {
    const check = await checkManifest(conn.publicClient, existing);
    if (check.ok) {
      log(`reusing the deployment from block ${existing.deploymentBlock.number} (${path})`);
      return { deployment: existing, deployed: false };
    }
    log(`the saved deployment does not match this chain (${check.reason}): redeploying`);
  }
  const deployment = await deployProtocol(conn, {
    deployerKey: o.deployerKey,
    operator: addressOf(o.operatorKey),
    attributor: addressOf(o.attributorKey),
    guardian: o.guardian ?? (o.rpcUrl ? addressOf(o.deployerKey) : addressOf(ANVIL_KEYS[4])),
    signers: o.signerKeys.map(addressOf),
    signerThreshold: o.signerThreshold,
    epochSeconds: o.epochSeconds,
    disputeWindowSeconds: o.disputeWindowSeconds,
    demoAccounts: (o.demo ?? !o.rpcUrl) ? DEMO_KEYS.map(addressOf) : [],
    onProgress: log,
    ...o.deploy,
  });
  writeManifest(path, deployment);
  log(`deployment written to ${path}`);
  return { deployment, deployed: true };
}
