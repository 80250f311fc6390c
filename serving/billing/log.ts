// The logger billing writes to: structurally bin/log.ts's Logger, so the CLI passes its own; tests pass
// one that records lines.
export interface BillingLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const nothing = () => {};
/** Drops everything: the default when no logger is given. */
export const SILENT_BILLING_LOGGER: BillingLogger = { debug: nothing, info: nothing, warn: nothing, error: nothing };
