// The chain part's public surface: contract ABIs, the viem client, anvil, deployment and the devnet.
export * from './generated/artifacts.ts';
export { CONTRACT_NAMES, type ContractName } from './names.ts';
export { ANVIL_KEYS, ANVIL_MNEMONIC } from './anvilKeys.ts';
export { TributaryError, ChainError, DevnetError } from './errors.ts';
export { startAnvil, anvilBinary, freePort, type Anvil, type AnvilOptions } from './anvil.ts';
export {
  connectChain,
  type ChainConnection,
  type TributaryPublicClient,
  type TributaryWalletClient,
} from './client.ts';
export { deployProtocol, addressOf, DEFAULT_SHARES, type DeployParams } from './deploy.ts';
export { readManifest, writeManifest, checkManifest, deploymentSchema, type Deployment, type ManifestCheck } from './manifest.ts';
export { startDevnet, ensureDeployment, manifestPath, DEMO_KEYS, type Devnet, type DevnetOptions } from './devnet.ts';
export * from './datanetOps.ts';
export { ContractRevertError, describeRevert, decodeRevert, toChainError } from './revertMessage.ts';
export * from './openAmount.ts';
export * from './modelOps.ts';
export * from './routerOps.ts';
export * from './settlementOps.ts';
