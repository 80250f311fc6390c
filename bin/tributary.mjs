#!/usr/bin/env node
// Entry point of the `tributary` bin: registers tsx so Node 20 runs the TypeScript sources directly.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./tributary.ts');
process.exitCode = await main(process.argv);
