// The attribution part's public surface: gradient sketches, influence scoring, span matching, evaluation,
// epochs and payout batches (issue #5). Other parts import this part only through this file.
export { sketchSpec, createProjection, SketchSpecError, type SketchSpec, type SketchModule, type SketchSpecOptions, type Projection } from './influence/projection.ts';
export { sketchExamples, type SketchOptions, type Sketches } from './influence/sketch.ts';
export { createScorer, INFLUENCE_METHODS, ScorerError, type InfluenceMethod, type InfluenceScorer, type ScorerOptions, type CheckpointTrainSketches } from './influence/scorers.ts';
export { spdInverse, NotPositiveDefiniteError } from './influence/cholesky.ts';
export { generateEvalTask, TASK_LABELS, EvalTaskError, type EvalTask, type EvalTaskOptions, type EvalRow, type EvalQuery, type EvalEntity } from './eval/task.ts';
export { evalConfig, EVAL_TRAINING, type EvalConfig, type EvalTraining } from './eval/evalConfig.ts';
export { runEval, halfSubsets, EVAL_METHODS, EVAL_SPAN_OPTIONS, type EvalMethod, type EvalReport, type MethodResult, type RunEvalOptions } from './eval/runEval.ts';
export { checkTargets, DEFAULT_EVAL_METHOD, EVAL_BASELINES, type TargetCheck } from './eval/targets.ts';
export { auc, spearman, pearson, ranks, bootstrapMean, type MeanInterval } from './eval/metrics.ts';
export { buildSpanCorpus, createSpanCorpusBuilder, MAX_SPAN_TOKEN_ID, MAX_SPAN_TEXT_LENGTH, type SpanRow, type SpanCorpus, type SpanContribution, type SpanCorpusBuilder } from './spans/spanCorpus.ts';
export { findSpans, DEFAULT_FIND_SPANS_OPTIONS, type FindSpansOptions, type SpanMatch, type MatchedSpan, type SpanOccurrence } from './spans/findSpans.ts';
export type { ContributionEvidence } from './spans/spanEvidence.ts';
export { openSpanIndex, saveSpanIndex, type SpanIndex } from './spans/spanIndex.ts';
export { SPAN_INDEX_MAGIC, SPAN_INDEX_FORMAT_VERSION } from './spans/spanIndexFile.ts';
export { versionSpanIndex, buildVersionSpanIndex, versionSpanIndexFile, versionSpanRows, type VersionSpanIndexParameters, type SpanTokenizer } from './spans/versionSpanIndex.ts';
export { SpanIndexError, SpanIndexCorruptError, SpanIndexNotFoundError } from './spans/errors.ts';
export { combineSignals, DEFAULT_INFLUENCE_METHOD } from './influence/combine.ts';
