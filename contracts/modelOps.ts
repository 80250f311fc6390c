// ModelRegistry as typed functions: registering a model (with its first training run and version),
// recording further runs, publishing versions, setting prices, and finding a registration made earlier
// (a trainer that crashed after registering looks it up instead of registering twice). Each write checks
// what it can read first, simulates the call (so a revert costs no gas and is reported in words before
// anything is signed), sends it, waits for the receipt and returns the emitted events' fields.
import {
  BaseError,
  HttpRequestError,
  getAbiItem,
  getAddress,
  isAddress,
  isHex,
  maxUint64,
  parseEventLogs,
  zeroHash,
  type Address,
  type ContractEventName,
  type Hash,
  type Hex,
  type ParseEventLogsReturnType,
  type TransactionReceipt,
} from 'viem';
import { DatanetRegistryAbi, ModelRegistryAbi, OpenTokenAbi } from './generated/artifacts.ts';
import type { TributaryWalletClient } from './client.ts';
import type { ChainContext, TxResult } from './datanetOps.ts';
import { ChainError, type TributaryError } from './errors.ts';
import { ContractRevertError, describeRevert, toChainError } from './revertMessage.ts';
import { sendSimulated, txResult } from './sendSimulated.ts';

/** Default price of 1000 input tokens: 0.001 OPEN (10^15 wei). */
export const DEFAULT_PRICE_IN = 10n ** 15n;
/** Default price of 1000 output tokens: 0.002 OPEN (2·10^15 wei); generating costs more than reading. */
export const DEFAULT_PRICE_OUT = 2n * 10n ** 15n;
/** Prices are uint96 on-chain (about 79 billion OPEN per 1000 tokens). */
export const MAX_PRICE = 2n ** 96n - 1n;

/** A datanet version a training run used (both uint64 on-chain). */
export interface DatanetVersionRef {
  datanetId: bigint;
  version: bigint;
}

// ------------------------------------------------------------------ helpers

/** Sentences for ModelRegistry's own errors; the shared ones come from revertMessage.ts. */
export function describeModelRevert(errorName: string, args: readonly unknown[]): string {
  const a = args as readonly any[]; // shapes follow each error's ABI entry
  switch (errorName) {
    case 'ModelNotFound':
      return `model ${a[0]} does not exist`;
    case 'NotModelOwner':
      return `${a[1]} is not the owner of model ${a[0]}`;
    case 'NoDatanetAccess':
      return `${a[1]} may not train on datanet ${a[0]}: it is permissioned and its owner has not granted this address access (the owner can run \`tributary datanet grant ${a[0]} ${a[1]}\`)`;
    case 'DatanetVersionNotFound':
      return `datanet ${a[0]} has no published version ${a[1]}`;
    case 'NoDatanets':
      return 'a training run must name at least one datanet version';
    case 'RunNotOfModel':
      return `training run ${a[0]} is not a run of model ${a[1]}`;
    case 'EmptyAdapterHash':
      return 'the adapter hash is zero: an adapter hash must not be 0x00…00';
    default:
      return describeRevert(errorName, args);
  }
}

const MODEL_ERRORS = new Set(['ModelNotFound', 'NotModelOwner', 'NoDatanetAccess', 'DatanetVersionNotFound', 'NoDatanets', 'RunNotOfModel', 'EmptyAdapterHash']);

/** toChainError, with the registry's errors in words. */
function modelError(e: unknown, action: string, account?: Address): TributaryError {
  const err = toChainError(e, action, { account });
  if (err instanceof ContractRevertError && MODEL_ERRORS.has(err.errorName)) {
    return new ContractRevertError(`${action}: ${describeModelRevert(err.errorName, err.errorArgs)}`, err.errorName, err.errorArgs, {
      details: err.details,
      cause: err.cause,
    });
  }
  return err;
}

/** A revert the chain would give, raised before sending because a read already shows it. */
function refused(action: string, errorName: string, args: readonly unknown[]): ContractRevertError {
  return new ContractRevertError(`${action}: ${describeModelRevert(errorName, args)}`, errorName, args, {
    details: `the contract would revert with ${errorName}(${args.map(String).join(', ')}); nothing was sent`,
  });
}

async function guarded<T>(action: string, f: () => Promise<T>, account?: Address): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw modelError(e, action, account);
  }
}

/** Sends a simulated request and waits for a successful receipt, with the registry's errors in words. */
const send = (ctx: ChainContext, wallet: TributaryWalletClient, action: string, request: unknown): Promise<TransactionReceipt> =>
  sendSimulated(ctx, wallet, action, request, {
    toError: modelError,
    timeoutDetails: 'it may still be mined: look it up (findModelRegistration) before sending it again',
  });

/** The `eventName` events ModelRegistry emitted in `receipt`; at least one. */
function registryEvents<N extends ContractEventName<typeof ModelRegistryAbi>>(
  ctx: ChainContext,
  receipt: TransactionReceipt,
  eventName: N,
): ParseEventLogsReturnType<typeof ModelRegistryAbi, N, true>[number]['args'][] {
  const registry = ctx.deployment.contracts.ModelRegistry.toLowerCase();
  const logs = receipt.logs.filter((l) => l.address.toLowerCase() === registry);
  const events = parseEventLogs({ abi: ModelRegistryAbi, logs, eventName, strict: true });
  if (events.length === 0) {
    throw new ChainError(`transaction ${receipt.transactionHash} succeeded but the registry at ${ctx.deployment.contracts.ModelRegistry} emitted no ${eventName}`, {
      details: 'the deployment manifest may not describe this chain',
    });
  }
  return events.map((e) => e.args as ParseEventLogsReturnType<typeof ModelRegistryAbi, N, true>[number]['args']);
}

function checkUint(name: string, v: bigint, max: bigint, action: string): void {
  if (typeof v !== 'bigint' || v < 0n || v > max) throw new ChainError(`${action}: ${name} must be an integer from 0 to ${max}, got ${String(v)}`);
}

function checkHash(name: string, v: Hex, action: string): void {
  if (!isHex(v, { strict: true }) || v.length !== 66) throw new ChainError(`${action}: ${name} must be 0x followed by 64 hex digits, got ${String(v)}`);
}

function checkDatanets(datanets: readonly DatanetVersionRef[], action: string): void {
  if (datanets.length === 0) throw refused(action, 'NoDatanets', []);
  for (const d of datanets) {
    checkUint('datanetId', d.datanetId, maxUint64, action);
    checkUint('version', d.version, maxUint64, action);
  }
}

const decodedDatanets = (ids: readonly bigint[], versions: readonly bigint[]): DatanetVersionRef[] => ids.map((datanetId, i) => ({ datanetId, version: versions[i]! }));

// ------------------------------------------------------------------- reads

export interface ModelState {
  modelId: bigint;
  owner: Address;
  /** Wei per 1000 input tokens. */
  priceIn: bigint;
  /** Wei per 1000 output tokens. */
  priceOut: bigint;
  versionCount: bigint;
  active: boolean;
}

/** A model as the registry holds it now. Throws a ContractRevertError "model N does not exist". */
export async function getModel(ctx: ChainContext, modelId: bigint, action = `cannot read model ${modelId}`): Promise<ModelState> {
  const m = await guarded(action, () =>
    ctx.conn.publicClient.readContract({ address: ctx.deployment.contracts.ModelRegistry, abi: ModelRegistryAbi, functionName: 'getModel', args: [modelId] }),
  );
  return { modelId, owner: m.owner, priceIn: m.priceIn, priceOut: m.priceOut, versionCount: m.versionCount, active: m.active };
}

export interface ModelRegistered {
  modelId: bigint;
  /** Who registered it (the owner then; see ModelOwnershipTransferred for later owners). */
  registrant: Address;
  name: string;
  baseModel: string;
  metadataURI: string;
  txHash: Hash;
  blockNumber: bigint;
}

/** What a model was registered with (its ModelRegistered event; names live only there), or undefined when there is no such model. */
export async function getModelRegistration(ctx: ChainContext, modelId: bigint, maxBlockRange = 50_000n): Promise<ModelRegistered | undefined> {
  const action = `cannot read the registration of model ${modelId}`;
  const pc = ctx.conn.publicClient;
  const address = ctx.deployment.contracts.ModelRegistry;
  const fromBlock = ctx.deployment.deploymentBlock.number;
  const toBlock = await guarded(action, () => pc.getBlockNumber({ cacheTime: 0 }));
  if (toBlock < fromBlock) return undefined;
  const event = getAbiItem({ abi: ModelRegistryAbi, name: 'ModelRegistered' });
  const [log] = await guarded(action, () =>
    logsInRanges(fromBlock, toBlock, maxBlockRange, (from, to) => pc.getLogs({ address, event, args: { modelId }, fromBlock: from, toBlock: to, strict: true })),
  );
  if (!log) return undefined;
  const a = log.args;
  return { modelId: a.modelId, registrant: a.owner, name: a.name, baseModel: a.baseModel, metadataURI: a.metadataURI, txHash: log.transactionHash, blockNumber: log.blockNumber };
}

export interface CheckTrainingAccessParameters {
  /** Who will record the training run. */
  account: Address;
  datanets: readonly DatanetVersionRef[];
  /** Prefix of the error message (default "cannot train on these datanets"). */
  action?: string;
}

/**
 * Checks, before any training, what recording the run will check: every datanet exists, has the version
 * named, and lets `account` train on it (open, owned by it, or granted). Throws a ContractRevertError
 * with the rule in words: DatanetNotFound, DatanetVersionNotFound or NoDatanetAccess.
 */
export async function checkTrainingAccess(ctx: ChainContext, p: CheckTrainingAccessParameters): Promise<void> {
  const action = p.action ?? 'cannot train on these datanets';
  checkDatanets(p.datanets, action);
  const pc = ctx.conn.publicClient;
  const registry = ctx.deployment.contracts.DatanetRegistry;
  const account = getAddress(p.account);
  for (const d of p.datanets) {
    // hasAccess reverts with DatanetNotFound for a datanet that does not exist.
    const [access, root] = await guarded(action, () =>
      Promise.all([
        pc.readContract({ address: registry, abi: DatanetRegistryAbi, functionName: 'hasAccess', args: [d.datanetId, account] }),
        pc.readContract({ address: registry, abi: DatanetRegistryAbi, functionName: 'versionRoot', args: [d.datanetId, d.version] }),
      ]),
    );
    if (root === zeroHash) throw refused(action, 'DatanetVersionNotFound', [d.datanetId, d.version]);
    if (!access) throw refused(action, 'NoDatanetAccess', [d.datanetId, account]);
  }
}

// ---------------------------------------------------------------- register

export interface RegisterModelParameters {
  /** The model owner's private key; the model belongs to its address. */
  key: Hex;
  /** The served model's name. */
  name: string;
  /** Which base model the adapter applies to. */
  baseModel: string;
  metadataURI: string;
  /** Wei per 1000 input tokens; default DEFAULT_PRICE_IN (0.001 OPEN). */
  priceIn?: bigint;
  /** Wei per 1000 output tokens; default DEFAULT_PRICE_OUT (0.002 OPEN). */
  priceOut?: bigint;
  /** SHA-256 of the adapter's weights file. */
  adapterHash: Hex;
  adapterURI: string;
  /** The datanet versions the first training run used. */
  datanets: readonly DatanetVersionRef[];
  /** SHA-256 of the training manifest. */
  manifestHash: Hex;
}

export interface RegisterModelReturnType extends TxResult {
  modelId: bigint;
  runId: bigint;
  /** The first version: 1. */
  version: bigint;
  owner: Address;
  name: string;
  baseModel: string;
  metadataURI: string;
  priceIn: bigint;
  priceOut: bigint;
  /** Registration fee paid to the treasury, wei. */
  feePaid: bigint;
  adapterHash: Hex;
  adapterURI: string;
  datanets: DatanetVersionRef[];
  manifestHash: Hex;
  /** The approval of the registration fee, when one was needed. */
  approval: TxResult | undefined;
}

/** Approves ModelRegistry to take exactly `amount` OPEN (the registration fee). */
async function approveRegistrationFee(ctx: ChainContext, wallet: TributaryWalletClient, amount: bigint, action: string): Promise<TxResult> {
  const { request } = await guarded(action, () =>
    ctx.conn.publicClient.simulateContract({
      address: ctx.deployment.contracts.OpenToken,
      abi: OpenTokenAbi,
      functionName: 'approve',
      args: [ctx.deployment.contracts.ModelRegistry, amount],
      account: wallet.account,
    }),
  );
  return txResult(await send(ctx, wallet, action, request));
}

/**
 * Registers a model owned by the key's address, with its first training run and version (one
 * transaction), approving the registration fee first when governance has set one.
 */
export async function registerModel(ctx: ChainContext, p: RegisterModelParameters): Promise<RegisterModelReturnType> {
  const action = `cannot register model ${JSON.stringify(p.name)}`;
  const priceIn = p.priceIn ?? DEFAULT_PRICE_IN;
  const priceOut = p.priceOut ?? DEFAULT_PRICE_OUT;
  checkUint('priceIn', priceIn, MAX_PRICE, action);
  checkUint('priceOut', priceOut, MAX_PRICE, action);
  checkHash('adapterHash', p.adapterHash, action);
  checkHash('manifestHash', p.manifestHash, action);
  if (p.adapterHash === zeroHash) throw refused(action, 'EmptyAdapterHash', []);
  checkDatanets(p.datanets, action);
  const wallet = ctx.conn.wallet(p.key);
  const owner = wallet.account.address;
  await checkTrainingAccess(ctx, { account: owner, datanets: p.datanets, action });

  const pc = ctx.conn.publicClient;
  const registry = ctx.deployment.contracts.ModelRegistry;
  const fee = await guarded(action, () => pc.readContract({ address: registry, abi: ModelRegistryAbi, functionName: 'registrationFee' }));
  let approval: TxResult | undefined;
  if (fee > 0n) {
    const token = ctx.deployment.contracts.OpenToken;
    const [balance, allowance] = await guarded(action, () =>
      Promise.all([
        pc.readContract({ address: token, abi: OpenTokenAbi, functionName: 'balanceOf', args: [owner] }),
        pc.readContract({ address: token, abi: OpenTokenAbi, functionName: 'allowance', args: [owner, registry] }),
      ]),
    );
    if (balance < fee) throw refused(`${action} (registration fee)`, 'ERC20InsufficientBalance', [owner, balance, fee]);
    if (allowance < fee) approval = await approveRegistrationFee(ctx, wallet, fee, action);
  }
  const registration = {
    name: p.name,
    baseModel: p.baseModel,
    metadataURI: p.metadataURI,
    priceIn,
    priceOut,
    adapterHash: p.adapterHash,
    adapterURI: p.adapterURI,
    datanets: p.datanets.map((d) => ({ datanetId: d.datanetId, version: d.version })),
    manifestHash: p.manifestHash,
  };
  const { request } = await guarded(
    action,
    () => pc.simulateContract({ address: registry, abi: ModelRegistryAbi, functionName: 'registerModel', args: [registration], account: wallet.account }),
    owner,
  );
  const receipt = await send(ctx, wallet, action, request);
  const [reg] = registryEvents(ctx, receipt, 'ModelRegistered');
  const [run] = registryEvents(ctx, receipt, 'TrainingRunRecorded');
  const [ver] = registryEvents(ctx, receipt, 'ModelVersionPublished');
  return {
    ...txResult(receipt),
    modelId: reg!.modelId,
    runId: run!.runId,
    version: ver!.version,
    owner: reg!.owner,
    name: reg!.name,
    baseModel: reg!.baseModel,
    metadataURI: reg!.metadataURI,
    priceIn: reg!.priceIn,
    priceOut: reg!.priceOut,
    feePaid: reg!.feePaid,
    adapterHash: ver!.adapterHash,
    adapterURI: ver!.adapterURI,
    datanets: decodedDatanets(run!.datanetIds, run!.datanetVersions),
    manifestHash: run!.manifestHash,
    approval,
  };
}

// ------------------------------------------------------- runs and versions

export interface RecordTrainingRunParameters {
  /** The model owner's private key. */
  key: Hex;
  modelId: bigint;
  datanets: readonly DatanetVersionRef[];
  manifestHash: Hex;
}

export interface RecordTrainingRunReturnType extends TxResult {
  runId: bigint;
  modelId: bigint;
  submitter: Address;
  datanets: DatanetVersionRef[];
  manifestHash: Hex;
}

/** Records a further training run of the key's model. Owner only; needs access to every datanet named. */
export async function recordTrainingRun(ctx: ChainContext, p: RecordTrainingRunParameters): Promise<RecordTrainingRunReturnType> {
  const action = `cannot record a training run of model ${p.modelId}`;
  checkHash('manifestHash', p.manifestHash, action);
  checkDatanets(p.datanets, action);
  const wallet = ctx.conn.wallet(p.key);
  const account = wallet.account.address;
  const model = await getModel(ctx, p.modelId, action);
  if (getAddress(model.owner) !== account) throw refused(action, 'NotModelOwner', [p.modelId, account]);
  await checkTrainingAccess(ctx, { account, datanets: p.datanets, action });
  const { request } = await guarded(
    action,
    () =>
      ctx.conn.publicClient.simulateContract({
        address: ctx.deployment.contracts.ModelRegistry,
        abi: ModelRegistryAbi,
        functionName: 'recordTrainingRun',
        args: [p.modelId, p.datanets.map((d) => ({ datanetId: d.datanetId, version: d.version })), p.manifestHash],
        account: wallet.account,
      }),
    account,
  );
  const receipt = await send(ctx, wallet, action, request);
  const [ev] = registryEvents(ctx, receipt, 'TrainingRunRecorded');
  return {
    ...txResult(receipt),
    runId: ev!.runId,
    modelId: ev!.modelId,
    submitter: ev!.submitter,
    datanets: decodedDatanets(ev!.datanetIds, ev!.datanetVersions),
    manifestHash: ev!.manifestHash,
  };
}

export interface PublishModelVersionParameters {
  /** The model owner's private key. */
  key: Hex;
  modelId: bigint;
  /** A training run of this model. */
  runId: bigint;
  adapterHash: Hex;
  adapterURI: string;
}

export interface PublishModelVersionReturnType extends TxResult {
  modelId: bigint;
  version: bigint;
  runId: bigint;
  adapterHash: Hex;
  adapterURI: string;
}

/** Publishes a new version (adapter) of the key's model from one of its training runs. */
export async function publishModelVersion(ctx: ChainContext, p: PublishModelVersionParameters): Promise<PublishModelVersionReturnType> {
  const action = `cannot publish a version of model ${p.modelId}`;
  checkHash('adapterHash', p.adapterHash, action);
  if (p.adapterHash === zeroHash) throw refused(action, 'EmptyAdapterHash', []);
  const wallet = ctx.conn.wallet(p.key);
  const { request } = await guarded(
    action,
    () =>
      ctx.conn.publicClient.simulateContract({
        address: ctx.deployment.contracts.ModelRegistry,
        abi: ModelRegistryAbi,
        functionName: 'publishVersion',
        args: [p.modelId, p.runId, p.adapterHash, p.adapterURI],
        account: wallet.account,
      }),
    wallet.account.address,
  );
  const receipt = await send(ctx, wallet, action, request);
  const [ev] = registryEvents(ctx, receipt, 'ModelVersionPublished');
  return { ...txResult(receipt), modelId: ev!.modelId, version: ev!.version, runId: ev!.runId, adapterHash: ev!.adapterHash, adapterURI: ev!.adapterURI };
}

export interface SetModelPricesParameters {
  /** The model owner's private key. */
  key: Hex;
  modelId: bigint;
  /** Wei per 1000 input tokens. */
  priceIn: bigint;
  /** Wei per 1000 output tokens. */
  priceOut: bigint;
}

export interface SetModelPricesReturnType extends TxResult {
  modelId: bigint;
  priceIn: bigint;
  priceOut: bigint;
}

/** Sets the prices of the key's model; the router bills every later settlement at them. */
export async function setModelPrices(ctx: ChainContext, p: SetModelPricesParameters): Promise<SetModelPricesReturnType> {
  const action = `cannot set the prices of model ${p.modelId}`;
  checkUint('priceIn', p.priceIn, MAX_PRICE, action);
  checkUint('priceOut', p.priceOut, MAX_PRICE, action);
  const wallet = ctx.conn.wallet(p.key);
  const { request } = await guarded(
    action,
    () =>
      ctx.conn.publicClient.simulateContract({
        address: ctx.deployment.contracts.ModelRegistry,
        abi: ModelRegistryAbi,
        functionName: 'setPrices',
        args: [p.modelId, p.priceIn, p.priceOut],
        account: wallet.account,
      }),
    wallet.account.address,
  );
  const receipt = await send(ctx, wallet, action, request);
  const [ev] = registryEvents(ctx, receipt, 'ModelPricesSet');
  return { ...txResult(receipt), modelId: ev!.modelId, priceIn: ev!.priceIn, priceOut: ev!.priceOut };
}

// ------------------------------------------------------ earlier registrations

export interface FindTrainingRunsParameters {
  /** Who recorded the runs (the model owner at the time). */
  submitter: Address;
  manifestHash: Hex;
  /** Largest block range per eth_getLogs request (default 50,000); a refused range is split further. */
  maxBlockRange?: bigint;
}

export interface RecordedTrainingRun {
  runId: bigint;
  modelId: bigint;
  datanets: DatanetVersionRef[];
  /** The transaction that recorded it (registerModel or recordTrainingRun) and its block. */
  txHash: Hash;
  blockNumber: bigint;
}

/**
 * Every training run `submitter` recorded with this manifest hash, in chain order, read from the
 * registry's logs (the chain is the truth: no indexer lag).
 */
export async function findTrainingRuns(ctx: ChainContext, p: FindTrainingRunsParameters): Promise<RecordedTrainingRun[]> {
  const action = 'cannot look up earlier training runs';
  checkHash('manifestHash', p.manifestHash, action);
  if (!isAddress(p.submitter, { strict: false })) throw new ChainError(`${action}: submitter is not an address: ${String(p.submitter)}`);
  const pc = ctx.conn.publicClient;
  const address = ctx.deployment.contracts.ModelRegistry;
  const fromBlock = ctx.deployment.deploymentBlock.number;
  const toBlock = await guarded(action, () => pc.getBlockNumber({ cacheTime: 0 }));
  if (toBlock < fromBlock) return [];
  const event = getAbiItem({ abi: ModelRegistryAbi, name: 'TrainingRunRecorded' });
  const manifest = p.manifestHash.toLowerCase();
  const logs = await guarded(action, () =>
    logsInRanges(fromBlock, toBlock, p.maxBlockRange ?? 50_000n, (from, to) =>
      pc.getLogs({ address, event, args: { submitter: getAddress(p.submitter) }, fromBlock: from, toBlock: to, strict: true }),
    ),
  );
  return logs
    .filter((l) => l.args.manifestHash.toLowerCase() === manifest)
    .map((l) => ({
      runId: l.args.runId,
      modelId: l.args.modelId,
      datanets: decodedDatanets(l.args.datanetIds, l.args.datanetVersions),
      txHash: l.transactionHash,
      blockNumber: l.blockNumber,
    }));
}

export interface FindModelRegistrationParameters extends FindTrainingRunsParameters {
  adapterHash: Hex;
}

export interface ModelRegistration {
  modelId: bigint;
  runId: bigint;
  version: bigint;
  /** The transaction that recorded the run (registerModel or recordTrainingRun) and its block. */
  runTxHash: Hash;
  runBlockNumber: bigint;
  /** The transaction that published the version (the same as runTxHash after registerModel). */
  versionTxHash: Hash;
  datanets: DatanetVersionRef[];
}

/**
 * The earliest version of any model whose training run was recorded by `submitter` with this manifest
 * hash and which publishes this adapter hash, read from the registry's logs; undefined when there is
 * none. A trainer calls this before registering, so that running the same job again does not register
 * the same adapter twice.
 */
export async function findModelRegistration(ctx: ChainContext, p: FindModelRegistrationParameters): Promise<ModelRegistration | undefined> {
  const action = 'cannot look up earlier model registrations';
  checkHash('adapterHash', p.adapterHash, action);
  const runs = await findTrainingRuns(ctx, p);
  if (runs.length === 0) return undefined;
  const byRun = new Map(runs.map((r) => [r.runId, r]));
  const pc = ctx.conn.publicClient;
  const address = ctx.deployment.contracts.ModelRegistry;
  const fromBlock = runs[0]!.blockNumber;
  const toBlock = await guarded(action, () => pc.getBlockNumber({ cacheTime: 0 }));
  const event = getAbiItem({ abi: ModelRegistryAbi, name: 'ModelVersionPublished' });
  const adapter = p.adapterHash.toLowerCase();
  const versions = (
    await guarded(action, () =>
      logsInRanges(fromBlock, toBlock, p.maxBlockRange ?? 50_000n, (from, to) =>
        pc.getLogs({ address, event, args: { runId: [...byRun.keys()] }, fromBlock: from, toBlock: to, strict: true }),
      ),
    )
  ).filter((l) => l.args.adapterHash.toLowerCase() === adapter && byRun.get(l.args.runId)?.modelId === l.args.modelId);
  const first = versions[0];
  if (!first) return undefined;
  const run = byRun.get(first.args.runId)!;
  return {
    modelId: first.args.modelId,
    runId: first.args.runId,
    version: first.args.version,
    runTxHash: run.txHash,
    runBlockNumber: run.blockNumber,
    versionTxHash: first.transactionHash,
    datanets: run.datanets,
  };
}

/**
 * Logs over [from, to] in windows of at most `maxRange` blocks, in chain order. A window the RPC refuses
 * (too many results, too wide) is halved, down to one block; an unreachable RPC is not retried piecemeal.
 */
async function logsInRanges<T>(from: bigint, to: bigint, maxRange: bigint, fetch: (from: bigint, to: bigint) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  let span = maxRange > 0n ? maxRange : 1n;
  for (let a = from; a <= to; ) {
    const b = a + span - 1n < to ? a + span - 1n : to;
    try {
      out.push(...(await fetch(a, b)));
      a = b + 1n;
    } catch (e) {
      const unreachable = e instanceof BaseError && e.walk((x) => x instanceof HttpRequestError && x.status === undefined);
      if (unreachable || a === b) throw e;
      span = (b - a + 2n) / 2n;
    }
  }
  return out;
}
