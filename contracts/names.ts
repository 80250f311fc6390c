/** The protocol's contracts, in deployment order. */
export const CONTRACT_NAMES = [
  'OpenToken',
  'TributaryTimelock',
  'TributaryGovernor',
  'DatanetRegistry',
  'ModelRegistry',
  'AttributionSettlement',
  'InferenceRouter',
] as const;

export type ContractName = (typeof CONTRACT_NAMES)[number];
