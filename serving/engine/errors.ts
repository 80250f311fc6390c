// What the engine and the adapter cache refuse, and why. The HTTP layer maps each to a status:
// UnknownAdapterError → 404, QueueFullError → 429 with Retry-After, PromptTooLongError and
// InvalidRequestError → 400, EngineClosedError → 503; the rest are server errors.
import { TributaryError } from '../../contracts/index.ts';

/** No adapter of that name exists (the loader said so). */
export class UnknownAdapterError extends TributaryError {
  override name = 'UnknownAdapterError';
  constructor(readonly adapter: string, opts: { cause?: unknown } = {}) {
    super(`no adapter named ${JSON.stringify(adapter)}`, { details: 'load it first, or name one of the served models', cause: opts.cause });
  }
}

/** An adapter larger than a whole tier's budget could never be served: raise the budget. */
export class AdapterTooLargeError extends TributaryError {
  override name = 'AdapterTooLargeError';
}

/** The queue is full; retrying after `retryAfterSeconds` is likely to find room. */
export class QueueFullError extends TributaryError {
  override name = 'QueueFullError';
  constructor(readonly queued: number, readonly retryAfterSeconds: number) {
    super(`the request queue is full (${queued} waiting)`, { details: `retry after about ${retryAfterSeconds} s`, retryable: true });
  }
}

/** The prompt leaves no room for the tokens asked for within the model's positions. */
export class PromptTooLongError extends TributaryError {
  override name = 'PromptTooLongError';
  constructor(readonly promptTokens: number, readonly maxTokens: number, readonly positions: number) {
    super(`a prompt of ${promptTokens} tokens plus ${maxTokens} new tokens is longer than the model's ${positions} positions`, {
      details: `shorten the prompt to at most ${Math.max(0, positions - maxTokens)} tokens or ask for fewer tokens`,
    });
  }
}

/** A request field is out of range (the message names it and its value). */
export class InvalidRequestError extends TributaryError {
  override name = 'InvalidRequestError';
}

/** The engine was closed before (or while) the request ran. */
export class EngineClosedError extends TributaryError {
  override name = 'EngineClosedError';
  constructor() {
    super('the inference engine is shut down', { details: 'the server is stopping; retry against another instance or after restart', retryable: true });
  }
}

/** The engine's options do not make sense together (the message says which and why). */
export class EngineConfigError extends TributaryError {
  override name = 'EngineConfigError';
}
