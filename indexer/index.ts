// The indexer part's public surface: the Subsquid processor and its reorg- and crash-safe ClickHouse sink (issue #3).
// Nothing is exported yet; other parts import this part only through this file once it exists.
export {};
