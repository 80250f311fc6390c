// The benchmark's anvil: the platform binary from npm, with settings that keep block production
// cheap for tens of thousands of blocks, started either empty (to build a workload) or from a dumped
// state (one fresh anvil per arm, all serving the same chain).
//
// --hardfork shanghai: from Cancun on, every block writes the beacon-roots (EIP-4788) and, from
// Prague, the block-hash history (EIP-2935) system contracts, and anvil recomputes their growing
// storage trie per block, so mining cost grows with the chain (measured: 20k blocks took minutes
// instead of seconds). The indexer reads logs and headers only, which are the same on any fork.
// --prune-history: no per-block state snapshots (eth_getLogs and headers do not need them).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { anvilBinary, freePort } from '../../contracts/index.ts';
import { rpc } from './jsonRpc.ts';

export interface BenchAnvil {
  rpcUrl: string;
  pid: number;
  /** SIGTERM (anvil dumps its state to `dumpState`, if set) and wait for the exit. */
  stop(): Promise<void>;
}

export interface BenchAnvilOptions {
  /** Start from this state file (anvil --load-state). */
  loadState?: string;
  /** Write the state here on stop (anvil --dump-state). */
  dumpState?: string;
  /** No automatic mining: blocks are made with evm_mine / anvil_mine. */
  manualMining?: boolean;
}

export async function startBenchAnvil(opts: BenchAnvilOptions = {}): Promise<BenchAnvil> {
  const port = await freePort();
  const args = ['--host', '127.0.0.1', '--port', String(port), '--silent', '--hardfork', 'shanghai', '--prune-history'];
  // Base fee 0: with small block gas limits (sparse workload) full blocks would otherwise raise the
  // base fee above what queued transactions offered, and anvil would drop them.
  args.push('--block-base-fee-per-gas', '0');
  if (opts.manualMining) args.push('--no-mining');
  if (opts.loadState) args.push('--load-state', opts.loadState);
  if (opts.dumpState) args.push('--dump-state', opts.dumpState);
  const child: ChildProcess = spawn(anvilBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-2000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const rpcUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000; // loading a 200 MB state takes a while on a busy machine
  for (;;) {
    try {
      await rpc(rpcUrl, 'eth_chainId');
      break;
    } catch {
      if (gone || Date.now() > deadline) {
        child.kill('SIGKILL');
        process.off('exit', kill);
        throw new Error(`anvil did not start on port ${port}${gone ? ' (it exited)' : ' within 120 s'}: ${stderr.trim() || 'no output'}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    rpcUrl,
    pid: child.pid ?? -1,
    async stop() {
      process.off('exit', kill);
      if (gone) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** CPU seconds `pid` has used so far (Linux /proc), or undefined where that cannot be read. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}
