// Billing of the serving part: every inference recorded (usage in Postgres, the log in ClickHouse) and
// usage settled on-chain in numbered batches, idempotently. serving/index.ts re-exports this.
export { createSettler, type Settler, type SettlerOptions, type SettleResult, type SettlerFaultPoint, type SettlerFaultContext } from './settler.ts';
export {
  createInferenceRecorder,
  recordInference,
  recordInferences,
  backfillInferenceLog,
  isBillable,
  type InferenceRecorder,
  type InferenceRecorderOptions,
  type InferenceStores,
  type RecordInferencesReturnType,
  type BackfillInferenceLogReturnType,
} from './inferenceRecorder.ts';
export { SettlementError } from './errors.ts';
export { SILENT_BILLING_LOGGER, type BillingLogger } from './log.ts';
