// The two workloads of the benchmark and how their chains are built.
//
//   dense:  200 transactions × 1000 events, packed into as few blocks as the 30M block gas limit allows
//           (~5 transactions a block): the event-heavy case, where decoding and inserting dominate.
//   sparse: 20,000 transactions of 1–5 events, one transaction per block: the block-heavy case, where
//           fetching headers and per-batch overheads dominate.
//
// Each transaction calls BenchEmitter.settle(batch, k): k − 1 InferenceSettled events and one
// BatchSettled, with the real InferenceRouter signatures. The emitter stands in for the deployment's
// InferenceRouter (the other contracts get addresses that emit nothing), so the indexer decodes the
// events into its real typed tables. The chain ends with `finality` empty blocks, so that an indexer
// with the platform's finality window sees every workload block as final and can stop there.
import { encodeFunctionData, type Address, type Hex } from 'viem';
import { CONTRACT_NAMES, type ContractName } from '../../contracts/index.ts';
import { startBenchAnvil } from './anvil.ts';
import { compileEmitter, type CompiledEmitter } from './emitter.ts';
import { rpc, rpcBatch, toQuantity } from './jsonRpc.ts';

export type WorkloadName = 'dense' | 'sparse';

export interface WorkloadSpec {
  name: WorkloadName;
  /** Transactions, each calling settle() once. */
  txs: number;
  /** Events emitted by transaction `i` (0-based). */
  eventsOf(i: number): number;
  /** `packed`: as many transactions a block as fit; `one-per-block`: exactly one. */
  packing: 'packed' | 'one-per-block';
}

export function workloadSpec(name: WorkloadName, quick: boolean): WorkloadSpec {
  if (name === 'dense') return { name, txs: quick ? 20 : 200, eventsOf: () => 1000, packing: 'packed' };
  return { name, txs: quick ? 1000 : 20_000, eventsOf: (i) => 1 + (i % 5), packing: 'one-per-block' };
}

/** What every arm needs to know about a built chain (JSON-serialisable: it is passed to the children). */
export interface BenchChain {
  workload: WorkloadName;
  /** anvil's dumped state: each arm starts a fresh anvil from it. */
  stateFile: string;
  chainId: number;
  /** The deployment the indexer is given: InferenceRouter is the emitter. */
  contracts: Record<ContractName, Address>;
  deploymentBlock: { number: number; hash: Hex };
  /** The workload's blocks: the first after the deployment block, and the last one holding a transaction. */
  fromBlock: number;
  toBlock: number;
  /** toBlock + the empty blocks after it. */
  head: number;
  txs: number;
  events: number;
  /** Blocks holding workload transactions. */
  blocks: number;
}

const SENDER_INDEX = 0; // anvil's first unlocked account

/** Addresses for the contracts the workload does not use: valid, distinct, and silent. */
function placeholder(i: number): Address {
  return `0x${(0xbe0c00 + i).toString(16).padStart(40, '0')}` as Address;
}

/** Builds `spec`'s chain on a fresh anvil and dumps its state to `stateFile`. */
export async function buildChain(spec: WorkloadSpec, stateFile: string, finality: number, emitter: CompiledEmitter = compileEmitter()): Promise<BenchChain> {
  const anvil = await startBenchAnvil({ manualMining: true, dumpState: stateFile });
  try {
    const url = anvil.rpcUrl;
    const accounts = await rpc<Address[]>(url, 'eth_accounts');
    const from = accounts[SENDER_INDEX]!;
    const chainId = Number(await rpc<string>(url, 'eth_chainId'));

    await rpc(url, 'eth_sendTransaction', [{ from, data: emitter.bytecode, gas: toQuantity(3_000_000) }]);
    await rpc(url, 'evm_mine');
    const deployBlock = await rpc<{ number: Hex; hash: Hex; transactions: Hex[] }>(url, 'eth_getBlockByNumber', ['latest', false]);
    const receipt = await rpc<{ contractAddress: Address; status: Hex }>(url, 'eth_getTransactionReceipt', [deployBlock.transactions[0]]);
    if (receipt.status !== '0x1') throw new Error('deploying BenchEmitter reverted');
    const address = receipt.contractAddress;

    const data = (i: number) =>
      encodeFunctionData({ abi: emitter.abi, functionName: 'settle', args: [BigInt(i + 1), BigInt(spec.eventsOf(i))] });
    const estimate = async (events: number) =>
      Number(await rpc<Hex>(url, 'eth_estimateGas', [{ from, to: address, data: encodeFunctionData({ abi: emitter.abi, functionName: 'settle', args: [1n, BigInt(events)] }) }]));
    const counts = Array.from({ length: spec.txs }, (_, i) => spec.eventsOf(i));
    const maxEvents = Math.max(...counts);
    const gas = Math.ceil((await estimate(maxEvents)) * 1.1);
    const firstNonce = Number(await rpc<Hex>(url, 'eth_getTransactionCount', [from, 'pending']));
    let nonce = firstNonce;
    const send = (i: number) => ['eth_sendTransaction', [{ from, to: address, data: data(i), gas: toQuantity(gas), nonce: toQuantity(nonce++) }]] as const;

    const first = Number(deployBlock.number) + 1;
    if (spec.packing === 'one-per-block') {
      // anvil fits a transaction into a block only while gas used so far + its gas limit stays within the
      // block gas limit: with the limit below (smallest gas used + gas limit), every block holds one.
      const minUsed = await estimate(Math.min(...counts));
      await rpc(url, 'anvil_setBlockGasLimit', [toQuantity(gas + Math.floor(minUsed / 2))]);
      // In chunks: anvil's pool gets slow with tens of thousands of pending transactions.
      for (let s = 0; s < spec.txs; s += 500) {
        const n = Math.min(500, spec.txs - s);
        await rpcBatch(url, Array.from({ length: n }, (_, k) => send(s + k)));
        await rpc(url, 'anvil_mine', [toQuantity(n)]);
        await assertPoolEmpty(url, `after mining transactions ${s}–${s + n - 1}`);
      }
    } else {
      await rpcBatch(url, Array.from({ length: spec.txs }, (_, i) => send(i)));
      for (let guard = 0; (await pending(url)) > 0; guard++) {
        if (guard > spec.txs) throw new Error('anvil keeps transactions pending: the block gas limit is below one transaction');
        await rpc(url, 'evm_mine');
      }
    }
    const toBlock = Number(await rpc<Hex>(url, 'eth_blockNumber'));
    const minedTxs = Number(await rpc<Hex>(url, 'eth_getTransactionCount', [from, 'latest'])) - firstNonce;
    if (minedTxs !== spec.txs) throw new Error(`${spec.txs} transactions were sent but ${minedTxs} were mined`);
    if (spec.packing === 'one-per-block' && toBlock - first + 1 !== spec.txs) {
      throw new Error(`expected one transaction a block: ${spec.txs} transactions in ${toBlock - first + 1} blocks`);
    }
    await rpc(url, 'anvil_mine', [toQuantity(finality)]);

    const contracts = Object.fromEntries(CONTRACT_NAMES.map((n, i) => [n, n === 'InferenceRouter' ? address : placeholder(i)])) as Record<ContractName, Address>;
    return {
      workload: spec.name,
      stateFile,
      chainId,
      contracts,
      deploymentBlock: { number: Number(deployBlock.number), hash: deployBlock.hash },
      fromBlock: first,
      toBlock,
      head: toBlock + finality,
      txs: spec.txs,
      events: counts.reduce((a, b) => a + b, 0),
      blocks: toBlock - first + 1,
    };
  } finally {
    await anvil.stop(); // dumps the state
  }
}

async function pending(url: string): Promise<number> {
  const s = await rpc<{ pending: Hex; queued: Hex }>(url, 'txpool_status');
  return Number(s.pending) + Number(s.queued);
}

async function assertPoolEmpty(url: string, when: string): Promise<void> {
  const n = await pending(url);
  if (n > 0) throw new Error(`${n} transactions are still pending ${when}: anvil did not mine them`);
}
