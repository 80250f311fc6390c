import { defineConfig } from 'vitest/config';

// One process per test file (chDB and PGlite allow one process per data directory), each test file
// starting its own anvil / stores in a temp dir.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'contracts/out*/**', 'contracts/cache*/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
