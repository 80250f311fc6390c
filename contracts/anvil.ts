// Spawns anvil from npm (@foundry-rs/anvil's platform binary) as a child process. The binary itself is
// spawned, not `npx anvil`: a signal to npx does not reach anvil, which would keep running (TOOLCHAIN.md).
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { DevnetError } from './errors.ts';

const require = createRequire(import.meta.url);

export interface AnvilOptions {
  /** Port to listen on; 0 or unset picks a free one. */
  port?: number;
  chainId?: number;
  /** File to load state from and dump state to (anvil --state), so the chain survives a restart. */
  stateFile?: string;
  /** Seconds between state dumps (on top of the dump at SIGINT/SIGTERM). */
  stateInterval?: number;
  /** Seconds per block; unset means automine (a block per transaction). */
  blockTime?: number;
  /** Lines anvil prints go here (default: dropped). */
  onLog?: (line: string) => void;
}

export interface Anvil {
  rpcUrl: string;
  port: number;
  pid: number;
  /** Stops anvil (SIGTERM, so it dumps its state) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Path of the anvil binary shipped by the npm package for this platform. */
export function anvilBinary(): string {
  const pkg = `@foundry-rs/anvil-${process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`;
  let path: string;
  try {
    path = join(dirname(require.resolve(`${pkg}/package.json`)), 'bin', 'anvil');
  } catch (cause) {
    throw new DevnetError(`anvil is not installed for ${process.platform}-${process.arch}`, {
      details: `npm package ${pkg} was not found; run npm install`,
      cause,
    });
  }
  if (!existsSync(path)) throw new DevnetError(`anvil binary missing at ${path}`, { details: 'run npm install' });
  return path;
}

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function rpcReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    });
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts anvil and resolves once it answers JSON-RPC. */
export async function startAnvil(opts: AnvilOptions = {}): Promise<Anvil> {
  const port = opts.port && opts.port > 0 ? opts.port : await freePort();
  const args = ['--host', '127.0.0.1', '--port', String(port), '--silent'];
  if (opts.chainId !== undefined) args.push('--chain-id', String(opts.chainId));
  if (opts.blockTime !== undefined) args.push('--block-time', String(opts.blockTime));
  if (opts.stateFile) {
    mkdirSync(dirname(opts.stateFile), { recursive: true });
    args.push('--state', opts.stateFile, '--state-interval', String(opts.stateInterval ?? 5));
  }
  const child: ChildProcess = spawn(anvilBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const onData = (buf: Buffer) => {
    for (const line of buf.toString().split('\n').filter(Boolean)) {
      output.push(line);
      if (output.length > 50) output.shift();
      opts.onLog?.(line);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code;
      resolve();
    }),
  );
  // Never leave anvil behind when this process goes away.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (!(await rpcReady(url))) {
    if (exited !== undefined) {
      process.off('exit', killOnExit);
      throw new DevnetError(`anvil exited with code ${exited} before answering on port ${port}`, {
        details: output.join('\n  ') || 'it printed nothing',
        retryable: true,
      });
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      process.off('exit', killOnExit);
      throw new DevnetError(`anvil did not answer on ${url} within 30 s`, { details: output.join('\n  '), retryable: true });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    rpcUrl: url,
    port,
    pid: child.pid ?? -1,
    async stop() {
      process.off('exit', killOnExit);
      if (exited !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
