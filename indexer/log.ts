// The logger the indexer writes to: structurally the same as bin/log.ts's Logger, so the CLI passes
// its own; tests pass one that records lines.
export interface IndexerLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const nothing = () => {};
/** Drops everything: the default when no logger is given. */
export const SILENT_LOGGER: IndexerLogger = { debug: nothing, info: nothing, warn: nothing, error: nothing };
