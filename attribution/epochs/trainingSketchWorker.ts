// The sketch job on the worker thread (sketchInWorker.ts sends it there through serving's runWorkerJob):
// opens the file content store and the base model, sketches every checkpoint of the run and stores the
// parts and the manifest (sketchCheckpoints).
import { openFsContentStore } from '../../schema/index.ts';
import { disposeModel, loadModel, readTokenizer, useTensorBackend, type WorkerJobHandler } from '../../serving/index.ts';
import type { SketchWorkerRequest } from './sketchInWorker.ts';
import { sketchCheckpoints, type SketchProgress } from './trainingSketches.ts';

export const handle: WorkerJobHandler<SketchWorkerRequest, SketchProgress, null> = async (req, progress) => {
  await useTensorBackend(req.backend);
  const content = await openFsContentStore({ root: req.contentRoot });
  const tokenizer = readTokenizer(req.baseModelDir);
  const model = loadModel(req.baseModelDir);
  try {
    await sketchCheckpoints({ content, ...(req.adaptersDir !== undefined && { adaptersDir: req.adaptersDir }) }, model, tokenizer, req, progress);
  } finally {
    disposeModel(model);
  }
  return { output: null };
};
