// The serving part's public surface (OpenLoRA): the GPT-2 model and its files, LoRA adapters, the
// batched multi-adapter engine, the OpenAI-compatible routes and LoRA training (the ModelFactory back
// end). Other parts import this part only through this file.
export { useTensorBackend, TENSOR_BACKENDS, TensorBackendError, type TensorBackend } from './backend.ts';
export { tf, type Tensor, type Tensor1D, type Tensor2D, type Tensor3D } from './tf.ts';
export { GPT2_SMALL, readModelConfig, configJson, ModelConfigError, type Gpt2Config } from './modelConfig.ts';
export {
  forward,
  initModel,
  createModel,
  disposeModel,
  linearModules,
  parameterShapes,
  parameterCount,
  LINEAR_MODULES,
  type Gpt2Model,
  type ForwardOptions,
  type ForwardResult,
  type ForwardStats,
  type LinearHook,
  type AttentionPast,
} from './gpt2.ts';
export { loadModel, saveModel, MODEL_FILE, type WeightLayout, type LoadModelOptions, type SaveModelOptions } from './checkpoint.ts';
export { readSafetensors, writeSafetensors, encodeSafetensors, SafetensorsError, type SafeTensor, type SafetensorsInput } from './safetensors.ts';
export {
  gpt2Tokenizer,
  trimmedTokenizer,
  buildTrimmedVocab,
  readTokenizer,
  writeTrimmedVocab,
  TokenizerError,
  GPT2_EOS_TOKEN,
  TRIMMED_VOCAB_FILE,
  type Tokenizer,
  type StreamDecoder,
} from './tokenizer.ts';
export { createLora, disposeLora, adapterHook, multiAdapterHook, mergeAdapter, loraScale, loraBytes, targetedModules, LoraError, type LoraAdapter, type LoraConfig, type LoraWeights } from './lora.ts';
export { createAdapterLoader, type AdapterLoader, type AdapterLoaderOptions, type AdapterLoaderStats } from './adapterLoader.ts';
export { readAdapter, readHostAdapter, parseHostAdapter, readAdapterConfig, parseAdapterConfig, writeAdapter, adapterHash, ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from './adapterFiles.ts';
export { createEngine, type Engine, type EngineOptions, type EngineMetrics, type GenerateRequest, type GenerateHandle, type GenerateResult, type FinishReason, type Scheduling } from './engine/engine.ts';
export { createAdapterCache, toDevice as toDeviceAdapter, type AdapterCache, type AdapterCacheOptions, type AdapterCacheStats, type HostAdapter } from './engine/adapterCache.ts';
export { UnknownAdapterError, AdapterTooLargeError, QueueFullError, PromptTooLongError, InvalidRequestError, EngineClosedError, EngineConfigError } from './engine/errors.ts';
export { openaiRoutes, type OpenAiRoutesOptions, type InferenceRecord, type Caller } from './http/openaiRoutes.ts';
export { createModelCatalog, adapterKeyOf, publishedAdapterHash, type ModelCatalog, type ServedModel } from './http/catalog.ts';
export { applyPublishedModels, type PublishedModel, type CatalogChanges } from './http/publishedModels.ts';
export { PROMPT_FORMAT, formatRow, promptFor, shapeOfRow, toExample, tokensToExample, type FormattedRow, type TokenExample, type Example } from './train/format.ts';
export { trainLora, hashRows, type TrainLoraOptions, type TrainLoraResult, type TrainingRow, type TrainProgress, type TrainingManifest, type TrainingExampleRecord } from './train/trainLora.ts';
export { perExampleGradients, perExampleGradientsLoop, perExampleGradientTensors, disposeGradientTensors, type GradientTensors, type PerExampleGradientsOptions, type PerExampleGradients, type ModuleGradients } from './train/perExampleGradients.ts';
export { exampleLosses, type ExampleLosses } from './train/exampleLosses.ts';
export { maskedCrossEntropy, type MaskedLoss } from './train/loss.ts';
export { TrainingError, TrainingAbortedError } from './train/errors.ts';
export { generateCorpus, CORPUS_VERSION } from './corpus/generate.ts';
export {
  runTraining,
  trainAndStore,
  registerTraining,
  checkRegistrationParameters,
  baseModelIdentity,
  type RunTrainingContext,
  type RunTrainingParameters,
  type RunTrainingProgress,
  type RunTrainingResult,
  type TrainAndStoreParameters,
  type RegisterTrainingParameters,
  type StoredTraining,
  type Registration,
  type TrainingHyperparameters,
  type RegistrationTx,
  type BaseModelIdentity,
} from './train/runTraining.ts';
export { runTrainJob, type TrainJobInput, type TrainJobOutput } from './train/trainJob.ts';
export { trainInWorker, type TrainInWorkerOptions } from './train/trainInWorker.ts';
export { runWorkerJob, type WorkerJobError, type WorkerJobOptions, type WorkerJobHandler } from './workerJob.ts';
export { trainingJobTypedData, checkTrainingJob, jobParametersHash, JOB_MAX_AGE_SECONDS, type TrainingJob, type TrainingJobDomain, type JobParameters } from './train/trainingJobGrant.ts';
export { trainingRoute, TRAINING_JOBS_PATH, type TrainingRouteOptions, type TrainingJobEvent } from './http/trainingRoute.ts';
export * from './billing/index.ts';
export { warmupCosine, type WarmupCosineOptions } from './train/schedule.ts';
