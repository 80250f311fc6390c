import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { compileContracts, generatedPath } from './build.ts';
import * as chain from './index.ts';

describe('contracts/generated/artifacts.ts', () => {
  it('is what contracts/src compiles to today (run `npm run build:contracts` if this fails)', () => {
    expect(readFileSync(generatedPath, 'utf8') === compileContracts()).toBe(true);
  });

  it('has an ABI and bytecode for every deployed contract', () => {
    for (const name of chain.CONTRACT_NAMES) {
      expect(chain.artifacts[name].abi.length).toBeGreaterThan(5);
      expect(chain.artifacts[name].bytecode).toMatch(/^0x[0-9a-f]{2000,}$/);
    }
  });
});

describe('contracts/index.ts', () => {
  it('exposes this public surface (a change here is a change for every other part)', () => {
    expect(Object.keys(chain).filter((k) => !/(Abi|Bytecode)$/.test(k)).sort()).toMatchInlineSnapshot(`
      [
        "ANVIL_KEYS",
        "ANVIL_MNEMONIC",
        "CONTRACT_NAMES",
        "ChainError",
        "ContractRevertError",
        "DEFAULT_PRICE_IN",
        "DEFAULT_PRICE_OUT",
        "DEFAULT_SHARES",
        "DEMO_KEYS",
        "DevnetError",
        "MAX_PRICE",
        "OPEN_DECIMALS",
        "REJECT_REASONS",
        "TributaryError",
        "acceptedContributions",
        "addressOf",
        "anvilBinary",
        "approveOperator",
        "artifacts",
        "buildContributeTransactions",
        "checkManifest",
        "checkTrainingAccess",
        "claimPayout",
        "claimPayoutFor",
        "connectChain",
        "contribute",
        "createDatanet",
        "datanetMetadataURI",
        "decodeRevert",
        "deployProtocol",
        "deploymentSchema",
        "depositEscrow",
        "describeModelRevert",
        "describeRevert",
        "describeSettlementRevert",
        "ensureDeployment",
        "findModelRegistration",
        "findPostedBatch",
        "findSettledBatch",
        "findTrainingRuns",
        "formatOpen",
        "freePort",
        "getClaimed",
        "getDatanet",
        "getEpochClock",
        "getEpochEnd",
        "getEpochPool",
        "getEscrow",
        "getModel",
        "getModelRegistration",
        "getNextBatchNonce",
        "getOperatorAllowance",
        "getPostedBatch",
        "getSettlementState",
        "isRouterOperator",
        "lastSettledBatch",
        "manifestPath",
        "parseOpen",
        "postPayoutBatch",
        "publishModelVersion",
        "publishVersion",
        "quoteInference",
        "readBatchDigest",
        "readDatanetMetadataURI",
        "readManifest",
        "recordTrainingRun",
        "registerModel",
        "reviewContribution",
        "revokePayoutBatch",
        "setAccess",
        "setCurator",
        "setModelPrices",
        "settleUsage",
        "startAnvil",
        "startDevnet",
        "toChainError",
        "writeManifest",
      ]
    `);
  });
});
