// The devnet every chain test starts: anvil's well-known keys in their usual roles (deployer 0,
// operator 1, attributor 2, signers 2 and 3 with threshold 2), an hour-long epoch and a 10-minute
// dispute window. Tests override what they exercise.
import { ANVIL_KEYS } from '../anvilKeys.ts';
import { startDevnet, type Devnet, type DevnetOptions } from '../devnet.ts';

export function testDevnetOptions(dataDir: string, over: Partial<DevnetOptions> = {}): DevnetOptions {
  return {
    dataDir,
    deployerKey: ANVIL_KEYS[0],
    operatorKey: ANVIL_KEYS[1],
    attributorKey: ANVIL_KEYS[2],
    signerKeys: [ANVIL_KEYS[2], ANVIL_KEYS[3]],
    signerThreshold: 2,
    epochSeconds: 3600,
    disputeWindowSeconds: 600,
    ...over,
  };
}

export function startTestDevnet(dataDir: string, over: Partial<DevnetOptions> = {}): Promise<Devnet> {
  return startDevnet(testDevnetOptions(dataDir, over));
}
