// How a one-shot CLI verb reaches the chain and the deployment on it:
//   1. a running `tributary up` (or `tributary devnet`) for this data dir: its RPC URL, from up.json
//      (or devnet.json), whose pid must be alive (a file left by a crash is ignored);
//   2. else RPC_URL, with the deployment manifest in the data dir;
//   3. else the devnet itself, started from the data dir for the length of the command and stopped
//      afterwards (anvil dumps its state on SIGTERM, so the next `up` sees what the command did).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ChainError,
  checkManifest,
  connectChain,
  manifestPath,
  readManifest,
  startDevnet,
  type ChainConnection,
  type Deployment,
} from '../contracts/index.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import { devnetOptions } from './platform.ts';

export interface ChainSession {
  conn: ChainConnection;
  deployment: Deployment;
  /** Where the chain came from: a running `up`/`devnet`, RPC_URL, or a devnet started for this command. */
  source: 'up' | 'devnet' | 'rpc' | 'started';
  rpcUrl: string;
  /** Stops what the session started (the devnet of `started`); a no-op otherwise. */
  close(): Promise<void>;
}

/** The process files a long-running verb leaves in the data dir: `{ pid, rpcUrl, … }`. */
const RUNNING_FILES = [
  { file: 'up.json', source: 'up' },
  { file: 'devnet.json', source: 'devnet' },
] as const;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The RPC URL of a live `up` or `devnet` for this data dir, if one is running. */
export function runningChain(dataDir: string): { source: 'up' | 'devnet'; rpcUrl: string; pid: number } | undefined {
  for (const { file, source } of RUNNING_FILES) {
    const path = join(dataDir, file);
    if (!existsSync(path)) continue;
    let info: { pid?: unknown; rpcUrl?: unknown };
    try {
      info = JSON.parse(readFileSync(path, 'utf8')) as typeof info;
    } catch {
      continue; // half-written or foreign: as good as absent
    }
    if (typeof info.pid === 'number' && typeof info.rpcUrl === 'string' && info.pid > 0 && alive(info.pid)) {
      return { source, rpcUrl: info.rpcUrl, pid: info.pid };
    }
  }
  return undefined;
}

async function attach(rpcUrl: string, c: Config, source: ChainSession['source'], howToDeploy: string): Promise<ChainSession> {
  const conn = await connectChain(rpcUrl, { expectedChainId: c.chainId });
  const path = manifestPath(c.dataDir);
  const deployment = readManifest(path);
  if (!deployment) {
    throw new ChainError(`no deployment of Tributary is recorded for the chain at ${rpcUrl}`, {
      details: `${path} does not exist: ${howToDeploy}`,
    });
  }
  const check = await checkManifest(conn.publicClient, deployment);
  if (!check.ok) {
    throw new ChainError(`the deployment in ${path} is not on the chain at ${rpcUrl}`, {
      details: `${check.reason}; ${howToDeploy}`,
    });
  }
  return { conn, deployment, source, rpcUrl, close: async () => {} };
}

/** Opens the chain for one command. Call `close()` when done (in a finally). */
export async function openChainSession(c: Config, log: Logger): Promise<ChainSession> {
  const running = runningChain(c.dataDir);
  if (running) {
    log.debug(`using the chain of the running \`tributary ${running.source}\``, { pid: running.pid, rpcUrl: running.rpcUrl });
    return attach(running.rpcUrl, c, running.source, 'restart `tributary up`, which redeploys when its chain changed');
  }
  if (c.rpcUrl) return attach(c.rpcUrl, c, 'rpc', 'run `tributary devnet` or `tributary up` first, with the same RPC_URL and TRIBUTARY_DATA_DIR');

  log.info(`no devnet is running for ${c.dataDir}: starting one for this command`);
  // The devnet's step-by-step lines are noise for a one-line command: keep them for LOG_LEVEL=debug.
  const devnet = await startDevnet(devnetOptions(c, { ...log, info: log.debug }));
  if (devnet.deployed) log.info(`deployed the protocol on the new devnet (${manifestPath(c.dataDir)})`);
  return {
    conn: devnet.conn,
    deployment: devnet.deployment,
    source: 'started',
    rpcUrl: devnet.rpcUrl,
    close: () => devnet.stop(),
  };
}
