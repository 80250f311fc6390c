import { describe, expect, it } from 'vitest';
import {
  BaseError,
  ContractFunctionExecutionError,
  ContractFunctionRevertedError,
  HttpRequestError,
  InsufficientFundsError,
  encodeErrorResult,
  parseEther,
  type Abi,
} from 'viem';
import { AttributionSettlementAbi, DatanetRegistryAbi, OpenTokenAbi } from './generated/artifacts.ts';
import { ChainError, TributaryError } from './errors.ts';
import { ContractRevertError, PROTOCOL_ERRORS_ABI, decodeRevert, describeRevert, toChainError } from './revertMessage.ts';

const A = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

/** What viem throws when `functionName` of a contract with `abi` reverts with `data`. */
const reverted = (abi: Abi, data: `0x${string}`, functionName = 'contribute') =>
  new ContractFunctionExecutionError(new ContractFunctionRevertedError({ abi, data, functionName }), { abi, functionName, args: [] });

describe('describeRevert()', () => {
  it('puts each registry and token error in words, with amounts in OPEN', () => {
    const cases: [string, unknown[], string][] = [
      ['DatanetNotFound', [3n], 'datanet 3 does not exist'],
      ['ContributionNotFound', [7n], 'contribution 7 does not exist'],
      ['NotDatanetOwner', [3n, A], `${A} is not the owner of datanet 3`],
      ['NotCurator', [3n, A], `${A} is not a curator of datanet 3 (nor its owner)`],
      ['NotContributor', [7n, A], `${A} did not submit contribution 7`],
      ['StakeTooLow', [parseEther('1'), parseEther('10')], "stake 1 OPEN is below the datanet's required 10 OPEN"],
      ['AlreadyReviewed', [7n, 2], 'contribution 7 was already accepted'],
      ['AlreadyReviewed', [7n, 3], 'contribution 7 was already rejected'],
      ['NotReviewed', [7n], 'contribution 7 has not been reviewed yet'],
      ['QualityOutOfRange', [10001], 'quality 10001 is out of range: a quality score is 0 to 10000 basis points'],
      ['StakeLocked', [7n, 86400n], 'the stake of contribution 7 is locked until 1970-01-02T00:00:00.000Z'],
      ['SlashTooLarge', [7n, parseEther('11'), parseEther('10')], 'cannot slash 11 OPEN from contribution 7, whose stake is 10 OPEN'],
      ['NothingToWithdraw', [7n], 'contribution 7 has no stake left to withdraw'],
      ['EmptyContentHash', [], 'the hash is zero: a content hash or version root must not be 0x00…00'],
      ['ZeroAddress', [], 'the address is the zero address'],
      ['ERC20InsufficientBalance', [A, parseEther('0.5'), parseEther('100000')], `${A} holds 0.5 OPEN, less than the 100,000 OPEN needed`],
      ['ERC20InsufficientAllowance', [A, 0n, 1n], `${A} may spend only 0 OPEN of the payer's OPEN, less than the 0.000000000000000001 OPEN needed (approve more first)`],
      ['OwnableUnauthorizedAccount', [A], `${A} may not do this: only governance (the timelock) may`],
    ];
    for (const [name, args, text] of cases) expect(describeRevert(name, args)).toBe(text);
  });

  it('falls back to ErrorName(arg, …) for errors without a sentence', () => {
    expect(describeRevert('WrongNonce', [3n, 4n, 5n])).toBe('WrongNonce(3, 4, 5)');
    expect(describeRevert('NothingClaimable', [])).toBe('NothingClaimable()');
  });
});

describe('PROTOCOL_ERRORS_ABI', () => {
  it('holds each custom error of every contract once', () => {
    const names = PROTOCOL_ERRORS_ABI.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of ['StakeTooLow', 'ERC20InsufficientAllowance', 'WrongNonce', 'BatchOutOfOrder', 'GovernorOnlyExecutor']) expect(names).toContain(n);
  });
});

describe('toChainError()', () => {
  it('turns a registry revert into a ContractRevertError that names the error and its values', () => {
    const data = encodeErrorResult({ abi: DatanetRegistryAbi, errorName: 'NotCurator', args: [3n, A] });
    const e = toChainError(reverted(DatanetRegistryAbi, data, 'review'), 'cannot review contribution 7');
    expect(e).toBeInstanceOf(ContractRevertError);
    expect(e).toMatchObject({ errorName: 'NotCurator', errorArgs: [3n, A], retryable: false });
    expect(e.message).toBe(`cannot review contribution 7: ${A} is not a curator of datanet 3 (nor its owner)\n  the contract reverts with NotCurator(3, ${A}); nothing was sent`);
  });

  it("decodes a token error that bubbled up through the registry, which the registry's ABI lacks", () => {
    const data = encodeErrorResult({ abi: OpenTokenAbi, errorName: 'ERC20InsufficientAllowance', args: [A, 0n, parseEther('10')] });
    const err = reverted(DatanetRegistryAbi, data);
    expect(decodeRevert(err)).toEqual({ errorName: 'ERC20InsufficientAllowance', args: [A, 0n, parseEther('10')] });
    expect(toChainError(err, 'cannot contribute to datanet 1').message.split('\n')[0]).toBe(
      `cannot contribute to datanet 1: ${A} may spend only 0 OPEN of the payer's OPEN, less than the 10 OPEN needed (approve more first)`,
    );
  });

  it('decodes errors of the other contracts too, by name and values', () => {
    const data = encodeErrorResult({ abi: AttributionSettlementAbi, errorName: 'WrongNonce', args: [4n, 1n, 2n] });
    expect(toChainError(reverted(DatanetRegistryAbi, data), 'x').message.split('\n')[0]).toBe('x: WrongNonce(4, 1, 2)');
  });

  it('reports a require() reason string', () => {
    const errorAbi = [{ type: 'error', name: 'Error', inputs: [{ type: 'string', name: 'message' }] }] as const;
    const data = encodeErrorResult({ abi: errorAbi, errorName: 'Error', args: ['nope'] });
    const e = toChainError(reverted(DatanetRegistryAbi, data), 'cannot do it');
    expect(e).toBeInstanceOf(ContractRevertError);
    expect(e.message).toBe('cannot do it: the contract reverted (nope)');
  });

  it('says when the signer cannot pay for gas, and that an unreachable RPC is worth retrying', () => {
    const poor = toChainError(new InsufficientFundsError({ cause: new BaseError('insufficient funds for gas * price + value') }), 'cannot create the datanet', { account: A });
    expect(poor.message.split('\n')[0]).toBe(`cannot create the datanet: ${A} has too little ETH to pay for gas`);
    expect(poor.retryable).toBe(false);
    const down = toChainError(new HttpRequestError({ url: 'http://127.0.0.1:1', details: 'fetch failed' }), 'cannot read datanet 1');
    expect(down).toBeInstanceOf(ChainError);
    expect(down.message.split('\n')[0]).toBe('cannot read datanet 1: the chain RPC did not answer');
    expect(down.retryable).toBe(true);
  });

  it('passes TributaryErrors through and wraps anything else', () => {
    const mine = new TributaryError('already clear');
    expect(toChainError(mine, 'x')).toBe(mine);
    expect(toChainError(new Error('boom'), 'cannot x').message).toBe('cannot x: boom');
  });
});
