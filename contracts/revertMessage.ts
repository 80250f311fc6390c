// Turns what viem throws for a failed call or transaction into a ChainError a person can act on: a
// contract's custom error named with its values in words ("contribution 7 was already accepted"),
// falling back to `ErrorName(arg, …)` for errors without a sentence of their own.
import {
  BaseError,
  ContractFunctionRevertedError,
  HttpRequestError,
  InsufficientFundsError,
  TimeoutError,
  decodeErrorResult,
  type Abi,
  type Hex,
} from 'viem';
import { artifacts } from './generated/artifacts.ts';
import { ChainError, TributaryError } from './errors.ts';
import { formatOpen } from './openAmount.ts';

type AbiError = Extract<Abi[number], { type: 'error' }>;

/** Every custom error of every protocol contract, once each: a revert that bubbles up from the token
 * through the registry still carries the token's error, so decoding needs all of them. */
export const PROTOCOL_ERRORS_ABI: readonly AbiError[] = (() => {
  const bySignature = new Map<string, AbiError>();
  for (const { abi } of Object.values(artifacts)) {
    for (const item of abi as Abi) {
      if (item.type !== 'error') continue;
      const sig = `${item.name}(${item.inputs.map((i) => i.type).join(',')})`;
      if (!bySignature.has(sig)) bySignature.set(sig, item);
    }
  }
  return [...bySignature.values()];
})();

/** A call the contract refused: the custom error's name and decoded arguments are kept for callers. */
export class ContractRevertError extends ChainError {
  override name = 'ContractRevertError';
  constructor(
    message: string,
    readonly errorName: string,
    readonly errorArgs: readonly unknown[],
    opts: { details?: string; cause?: unknown } = {},
  ) {
    super(message, { ...opts, retryable: false });
  }
}

// DatanetRegistry.Status
const STATUS = ['not submitted', 'pending', 'accepted', 'rejected'];

const arg = (v: unknown): string => (typeof v === 'bigint' ? v.toString() : typeof v === 'string' ? v : JSON.stringify(v));

/** The sentence for a custom error with its decoded arguments; `ErrorName(arg, …)` when there is none. */
export function describeRevert(errorName: string, args: readonly unknown[] = []): string {
  const a = args as readonly any[]; // the shapes follow each error's ABI entry
  switch (errorName) {
    case 'DatanetNotFound':
      return `datanet ${a[0]} does not exist`;
    case 'ContributionNotFound':
      return `contribution ${a[0]} does not exist`;
    case 'NotDatanetOwner':
      return `${a[1]} is not the owner of datanet ${a[0]}`;
    case 'NotCurator':
      return `${a[1]} is not a curator of datanet ${a[0]} (nor its owner)`;
    case 'NotContributor':
      return `${a[1]} did not submit contribution ${a[0]}`;
    case 'StakeTooLow':
      return `stake ${formatOpen(a[0])} is below the datanet's required ${formatOpen(a[1])}`;
    case 'AlreadyReviewed':
      return `contribution ${a[0]} was already ${STATUS[Number(a[1])] ?? `in status ${a[1]}`}`;
    case 'NotReviewed':
      return `contribution ${a[0]} has not been reviewed yet`;
    case 'QualityOutOfRange':
      return `quality ${a[0]} is out of range: a quality score is 0 to 10000 basis points`;
    case 'StakeLocked':
      return `the stake of contribution ${a[0]} is locked until ${new Date(Number(a[1]) * 1000).toISOString()}`;
    case 'SlashTooLarge':
      return `cannot slash ${formatOpen(a[1])} from contribution ${a[0]}, whose stake is ${formatOpen(a[2])}`;
    case 'NothingToWithdraw':
      return `contribution ${a[0]} has no stake left to withdraw`;
    case 'EmptyContentHash':
      return 'the hash is zero: a content hash or version root must not be 0x00…00';
    case 'ZeroAddress':
      return 'the address is the zero address';
    case 'ERC20InsufficientBalance':
      return `${a[0]} holds ${formatOpen(a[1])}, less than the ${formatOpen(a[2])} needed`;
    case 'ERC20InsufficientAllowance':
      return `${a[0]} may spend only ${formatOpen(a[1])} of the payer's OPEN, less than the ${formatOpen(a[2])} needed (approve more first)`;
    case 'OwnableUnauthorizedAccount':
      return `${a[0]} may not do this: only governance (the timelock) may`;
    case 'SafeERC20FailedOperation':
      return `a transfer of the token ${a[0]} failed`;
    default:
      return `${errorName}(${args.map(arg).join(', ')})`;
  }
}

/** The custom error inside a viem error, decoded with every protocol error; undefined for other errors. */
export function decodeRevert(error: unknown): { errorName: string; args: readonly unknown[] } | { reason: string } | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError)) return undefined;
  if (reverted.data && reverted.data.errorName !== 'Error' && reverted.data.errorName !== 'Panic') {
    return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
  }
  if (reverted.raw && reverted.raw.length >= 10 && !reverted.data) {
    try {
      const d = decodeErrorResult({ abi: PROTOCOL_ERRORS_ABI as Abi, data: reverted.raw as Hex });
      return { errorName: d.errorName, args: d.args ?? [] };
    } catch {
      // Not one of ours: fall through to the reason viem found, if any.
    }
  }
  return { reason: reverted.reason ?? reverted.shortMessage };
}

/**
 * Maps anything a chain call threw to a TributaryError, prefixed with what was being attempted
 * (`action`, e.g. "cannot review contribution 7"). Reverts become ContractRevertError (not retryable);
 * an unreachable RPC a retryable ChainError; TributaryErrors pass through unchanged.
 */
export function toChainError(error: unknown, action: string, opts: { account?: string } = {}): TributaryError {
  if (error instanceof TributaryError) return error;
  const revert = decodeRevert(error);
  if (revert && 'errorName' in revert) {
    return new ContractRevertError(`${action}: ${describeRevert(revert.errorName, revert.args)}`, revert.errorName, revert.args, {
      details: `the contract reverts with ${revert.errorName}(${revert.args.map(arg).join(', ')}); nothing was sent`,
      cause: error,
    });
  }
  if (revert) {
    return new ContractRevertError(`${action}: the contract reverted (${revert.reason})`, 'Error', [revert.reason], { cause: error });
  }
  if (error instanceof BaseError) {
    if (error.walk((e) => e instanceof InsufficientFundsError)) {
      return new ChainError(`${action}: ${opts.account ?? 'the signing account'} has too little ETH to pay for gas`, {
        details: 'fund the account with the chain\'s native currency and try again',
        cause: error,
      });
    }
    const unreachable = error.walk((e) => (e instanceof HttpRequestError && e.status === undefined) || e instanceof TimeoutError);
    if (unreachable) {
      return new ChainError(`${action}: the chain RPC did not answer`, {
        details: (unreachable as BaseError).shortMessage,
        retryable: true,
        cause: error,
      });
    }
    return new ChainError(`${action}: ${error.shortMessage}`, { details: error.details || undefined, cause: error });
  }
  return new ChainError(`${action}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
