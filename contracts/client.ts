// viem clients for one chain: a public client for reads and one wallet client per signing key.
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Account,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ChainError } from './errors.ts';

export type TributaryPublicClient = PublicClient<Transport, Chain>;
export type TributaryWalletClient = WalletClient<Transport, Chain, Account>;

export interface ChainConnection {
  rpcUrl: string;
  chain: Chain;
  publicClient: TributaryPublicClient;
  /** A wallet client that signs with `key`. */
  wallet(key: Hex): TributaryWalletClient;
}

/** Connects to `rpcUrl`, reading its chain id. Throws a retryable ChainError if the RPC does not answer. */
export async function connectChain(rpcUrl: string, opts: { expectedChainId?: number } = {}): Promise<ChainConnection> {
  // cacheTime 0: viem otherwise caches the block number, which hides blocks mined a moment ago.
  const transport = http(rpcUrl, { retryCount: 2, timeout: 30_000 });
  const probe = createPublicClient({ transport, cacheTime: 0 });
  let id: number;
  try {
    id = await probe.getChainId();
  } catch (cause) {
    throw new ChainError(`cannot reach the chain RPC at ${rpcUrl}`, {
      details: cause instanceof Error ? cause.message.split('\n')[0] : String(cause),
      retryable: true,
      cause,
    });
  }
  if (opts.expectedChainId !== undefined && id !== opts.expectedChainId) {
    throw new ChainError(`chain id mismatch at ${rpcUrl}`, {
      details: `CHAIN_ID is ${opts.expectedChainId} but the RPC reports ${id}`,
    });
  }
  const chain = defineChain({
    id,
    name: `tributary-${id}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const publicClient = createPublicClient({ chain, transport, cacheTime: 0, pollingInterval: 50 });
  return {
    rpcUrl,
    chain,
    publicClient,
    wallet(key) {
      return createWalletClient({ chain, transport, account: privateKeyToAccount(key), cacheTime: 0, pollingInterval: 50 });
    },
  };
}
