// Compiles BenchEmitter.sol with solc-js (offline, ~1 s) at bench time: nothing generated is checked in,
// so the emitter can never be stale.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Abi, Hex } from 'viem';

const require = createRequire(import.meta.url);

export interface CompiledEmitter {
  abi: Abi;
  bytecode: Hex;
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
}

/** BenchEmitter's ABI and creation bytecode. */
export function compileEmitter(): CompiledEmitter {
  const solc = require('solc') as { compile(input: string): string };
  const source = readFileSync(fileURLToPath(new URL('./BenchEmitter.sol', import.meta.url)), 'utf8');
  const input = {
    language: 'Solidity',
    sources: { 'BenchEmitter.sol': { content: source } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'shanghai',
      viaIR: true, // InferenceSettled's twelve fields do not fit the legacy code generator's stack
      outputSelection: { '*': { BenchEmitter: ['abi', 'evm.bytecode.object'] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  const c = out.contracts?.['BenchEmitter.sol']?.BenchEmitter;
  if (errors.length > 0 || !c) {
    throw new Error(`solc could not compile bench/indexer/BenchEmitter.sol:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  }
  return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
}
