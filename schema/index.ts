// The schema part's public surface: ClickHouse tables and migrations, drizzle tables, store connections, the content store, row formats and hashing (issue #3).
// Nothing is exported yet; other parts import this part only through this file once it exists.
export {};
