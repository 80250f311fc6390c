// Small measuring tools shared by the attribution benchmarks: medians, a stopwatch that reads wall and
// CPU time together (the wasm backend computes on one thread, so on a shared machine CPU time shows the
// work while wall time also shows the other processes), the machine's description, and peak memory.
import { availableParallelism, loadavg } from 'node:os';

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export interface Lap {
  wallMs: number;
  cpuMs: number;
}

/** Starts a stopwatch; the function it returns gives the wall and CPU milliseconds since. */
export function stopwatch(): () => Lap {
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  return () => {
    const c = process.cpuUsage(cpu0);
    return { wallMs: performance.now() - wall0, cpuMs: (c.user + c.system) / 1000 };
  };
}

/** Runs f and adds its wall and CPU time to `into`. */
export async function timed<T>(into: Lap, f: () => T | Promise<T>): Promise<T> {
  const lap = stopwatch();
  try {
    return await f();
  } finally {
    const l = lap();
    into.wallMs += l.wallMs;
    into.cpuMs += l.cpuMs;
  }
}

export interface Machine {
  cores: number;
  node: string;
  backend: string;
  /** 1, 5 and 15-minute load averages when the run started and when it ended. */
  loadStart: number[];
  loadEnd: number[];
}

export function machineAtStart(backend: string): Machine {
  const load = loadavg().map((x) => +x.toFixed(2));
  return { cores: availableParallelism(), node: process.version, backend, loadStart: load, loadEnd: load };
}

export function machineAtEnd(m: Machine): Machine {
  return { ...m, loadEnd: loadavg().map((x) => +x.toFixed(2)) };
}

export const describeMachine = (m: Machine): string =>
  `${m.cores} cores, node ${m.node}, tfjs backend ${m.backend}, load average ${m.loadStart.join(' ')} at start, ${m.loadEnd.join(' ')} at end`;

/** The process's peak resident memory so far, MiB. */
export const peakRssMiB = (): number => process.resourceUsage().maxRSS / 1024;

/** A positive integer from a command-line value, or exits with a message naming the flag and the value. */
export function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) {
    process.stderr.write(`--${flag} must be a positive integer, got ${value}\n`);
    process.exit(2);
  }
  return n;
}

/** A positive number from a command-line value, likewise. */
export function positiveNumber(flag: string, value: string | undefined, fallback: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!(n > 0) || !Number.isFinite(n)) {
    process.stderr.write(`--${flag} must be a positive number, got ${value}\n`);
    process.exit(2);
  }
  return n;
}

/** Fills an array with seeded values in [-1, 1) (mulberry32): synthetic sketches, the same on every run. */
export function seededValues(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let a = seed >>> 0;
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}
