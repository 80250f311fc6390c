// Sending a transaction that simulateContract already approved, the same way for every contract: the
// send and the wait are put in the caller's words (its own revert descriptions), a receipt that does not
// come in time says the transaction may still be mined, and a reverted receipt says the chain moved on.
import { WaitForTransactionReceiptTimeoutError, type Address, type Hash, type TransactionReceipt } from 'viem';
import type { TributaryWalletClient } from './client.ts';
import type { ChainContext, TxResult } from './datanetOps.ts';
import { ChainError, type TributaryError } from './errors.ts';
import { toChainError } from './revertMessage.ts';

export interface SendSimulatedOptions {
  /** An RPC failure or revert in the caller's words (default: toChainError). */
  toError?: (e: unknown, action: string, account: Address) => TributaryError;
  /** Told the hash as soon as the transaction is sent, before it is mined. */
  onSent?: (hash: Hash) => void | Promise<void>;
  /** What to tell the user when the receipt does not come in time. */
  timeoutDetails?: string;
}

const defaultError = (e: unknown, action: string, account: Address): TributaryError => toChainError(e, action, { account });

/** Sends a simulated request and waits for a successful receipt. */
export async function sendSimulated(
  ctx: ChainContext,
  wallet: TributaryWalletClient,
  action: string,
  request: unknown,
  o: SendSimulatedOptions = {},
): Promise<TransactionReceipt> {
  const toError = o.toError ?? defaultError;
  const account = wallet.account.address;
  let hash: Hash;
  try {
    // writeContract accepts what simulateContract returned; its type depends on the function simulated.
    hash = await (wallet.writeContract as (r: unknown) => Promise<Hash>)(request);
  } catch (e) {
    throw toError(e, action, account);
  }
  await o.onSent?.(hash);
  let receipt: TransactionReceipt;
  try {
    receipt = await ctx.conn.publicClient.waitForTransactionReceipt({ hash, timeout: 120_000 });
  } catch (e) {
    if (e instanceof WaitForTransactionReceiptTimeoutError) {
      throw new ChainError(`${action}: transaction ${hash} was sent but not mined within 120 s`, {
        details: o.timeoutDetails ?? 'it may still be mined: look it up before sending it again',
        retryable: true,
        cause: e,
      });
    }
    throw toError(e, action, account);
  }
  if (receipt.status !== 'success') {
    throw new ChainError(`${action}: transaction ${hash} reverted in block ${receipt.blockNumber}`, {
      details: 'the simulation passed, so the chain changed in between (another transaction came first); check the state and retry',
      retryable: true,
    });
  }
  return receipt;
}

export const txResult = (r: TransactionReceipt): TxResult => ({ txHash: r.transactionHash, blockNumber: r.blockNumber, gasUsed: r.gasUsed });
