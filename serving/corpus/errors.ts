// Errors of the corpus generator.
import { TributaryError } from '../../contracts/index.ts';

/** A corpus option (seed, document count, output directory) that cannot be used; retrying will not help. */
export class CorpusError extends TributaryError {
  override name = 'CorpusError';
}
