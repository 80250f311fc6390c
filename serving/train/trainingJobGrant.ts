// A training job handed to a running platform (`tributary train` while `tributary up` holds the stores):
// the platform spends its compute and writes to its stores on the owner's behalf, so the owner signs the
// job. EIP-712 typed data names the owner, the datanet version, the model to add a version to (0 for a
// new model), the hash of the hyperparameters and the time of signing, bound to the chain and the
// deployment's ModelRegistry; the platform refuses a job older than JOB_MAX_AGE_SECONDS. A copied
// signature can only ask for the same job again, which gives the same files (training is deterministic
// for a seed) and registers nothing: registration stays with the owner's key, in the owner's process.
import { hashTypedData, keccak256, recoverTypedDataAddress, stringToBytes, type Address, type Hex, type TypedDataDomain } from 'viem';
import { z } from 'zod';
import type { TrainingHyperparameters } from './trainJob.ts';

export const TRAINING_JOB_TYPES = {
  TrainingJob: [
    { name: 'owner', type: 'address' },
    { name: 'datanetId', type: 'uint256' },
    { name: 'version', type: 'uint256' },
    { name: 'modelId', type: 'uint256' },
    { name: 'parameters', type: 'bytes32' },
    { name: 'issuedAt', type: 'uint64' },
  ],
} as const;

export const JOB_MAX_AGE_SECONDS = 600;

export interface TrainingJobDomain {
  chainId: number;
  /** The deployment's ModelRegistry: where the trained model is registered. */
  registry: Address;
}

/** The hyperparameters a job may set, as the platform accepts them (each optional; trainLora's defaults). */
export const jobParametersSchema = z
  .object({
    rank: z.number().int().min(1).max(256),
    alpha: z.number().positive().finite(),
    targets: z.array(z.string().min(1).max(64)).min(1).max(16),
    steps: z.number().int().min(1).max(1_000_000),
    epochs: z.number().int().min(1).max(10_000),
    batchSize: z.number().int().min(1).max(1024),
    learningRate: z.number().positive().max(1),
    seed: z.number().int().min(0).max(2 ** 32 - 1),
    checkpoints: z.number().int().min(1).max(64),
  })
  .partial()
  .strict()
  .refine((p) => p.steps === undefined || p.epochs === undefined, { message: 'give steps or epochs, not both' });

export type JobParameters = Pick<TrainingHyperparameters, 'rank' | 'alpha' | 'targets' | 'steps' | 'epochs' | 'batchSize' | 'learningRate' | 'seed' | 'checkpoints'>;

export interface TrainingJob {
  owner: Address;
  datanetId: bigint;
  version: bigint;
  /** 0n: a new model. */
  modelId: bigint;
  parameters: JobParameters;
  /** Unix seconds when the owner signed. */
  issuedAt: bigint;
}

/** keccak256 of the parameters as JSON with sorted keys and no undefined values: what the signature covers. */
export function jobParametersHash(p: JobParameters): Hex {
  const keys = Object.keys(p).filter((k) => p[k as keyof JobParameters] !== undefined).sort();
  return keccak256(stringToBytes(JSON.stringify(Object.fromEntries(keys.map((k) => [k, p[k as keyof JobParameters]])))));
}

export function trainingJobTypedData(d: TrainingJobDomain, j: TrainingJob) {
  const domain: TypedDataDomain = { name: 'Tributary training jobs', version: '1', chainId: d.chainId, verifyingContract: d.registry };
  const message = { owner: j.owner, datanetId: j.datanetId, version: j.version, modelId: j.modelId, parameters: jobParametersHash(j.parameters), issuedAt: j.issuedAt };
  return { domain, types: TRAINING_JOB_TYPES, primaryType: 'TrainingJob' as const, message };
}

export type JobCheck = { ok: true; digest: Hex } | { ok: false; status: 400 | 401; reason: string };

/** Checks a signed job: the owner signed it, and it is recent (and not from the future). */
export async function checkTrainingJob(d: TrainingJobDomain, j: TrainingJob, signature: Hex, nowSeconds = Math.floor(Date.now() / 1000)): Promise<JobCheck> {
  const age = nowSeconds - Number(j.issuedAt);
  if (age > JOB_MAX_AGE_SECONDS) return { ok: false, status: 400, reason: `the job was signed ${age} s ago; sign it again (at most ${JOB_MAX_AGE_SECONDS} s old)` };
  if (age < -60) return { ok: false, status: 400, reason: 'the job is dated in the future; check the clock' };
  let signer: Address;
  try {
    signer = await recoverTypedDataAddress({ ...trainingJobTypedData(d, j), signature });
  } catch {
    return { ok: false, status: 401, reason: 'the signature is malformed' };
  }
  if (signer.toLowerCase() !== j.owner.toLowerCase()) return { ok: false, status: 401, reason: `the job is signed by ${signer}, not by its owner ${j.owner}` };
  return { ok: true, digest: hashTypedData(trainingJobTypedData(d, j)) };
}
