// The environment a CLI verb sees when pointed at a chain it did not start (RPC_URL), with every role
// key given explicitly as a remote chain requires.
import { ANVIL_KEYS, type Devnet } from '../../contracts/index.ts';

export function remoteChainEnv(devnet: Devnet, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TRIBUTARY_DATA_DIR: dataDir,
    RPC_URL: devnet.rpcUrl,
    DEPLOYER_KEY: ANVIL_KEYS[0],
    OPERATOR_KEY: ANVIL_KEYS[1],
    ATTRIBUTOR_KEY: ANVIL_KEYS[2],
    SIGNER_KEYS: `${ANVIL_KEYS[2]},${ANVIL_KEYS[3]}`,
    LOG_LEVEL: 'error',
    ...extra,
  };
}
