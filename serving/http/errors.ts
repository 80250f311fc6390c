// Errors in OpenAI's shape ({error: {message, type, param, code}}), so official clients raise the
// matching exception classes (BadRequestError, NotFoundError, RateLimitError, …).
import type { ServerResponse } from 'node:http';
import { TributaryError } from '../../contracts/index.ts';
import { EngineClosedError, InvalidRequestError, PromptTooLongError, QueueFullError, UnknownAdapterError } from '../engine/errors.ts';

export class HttpError extends TributaryError {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, param: string | null = null) => new HttpError(400, message, 'invalid_request_error', param);

/** Maps the engine's refusals to HTTP; anything else is a 500 whose details stay in the server log. */
export function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (e instanceof UnknownAdapterError) return new HttpError(404, `The model '${e.adapter}' does not exist`, 'invalid_request_error', 'model', 'model_not_found');
  if (e instanceof QueueFullError) {
    return new HttpError(429, e.message.split('\n')[0]!, 'rate_limit_error', null, 'queue_full', { 'retry-after': String(Math.max(1, Math.ceil(e.retryAfterSeconds))) });
  }
  if (e instanceof PromptTooLongError) return new HttpError(400, e.message.replace('\n  ', '; '), 'invalid_request_error', 'prompt', 'context_length_exceeded');
  if (e instanceof InvalidRequestError) return badRequest(e.message);
  if (e instanceof EngineClosedError) return new HttpError(503, e.message.split('\n')[0]!, 'server_error', null, null, { 'retry-after': '5' });
  return new HttpError(500, 'internal server error', 'server_error');
}

export function sendError(res: ServerResponse, e: HttpError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(e.status, { 'content-type': 'application/json', ...e.headers });
  res.end(JSON.stringify({ error: { message: e.message, type: e.type, param: e.param, code: e.code } }));
}
