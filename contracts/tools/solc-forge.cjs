#!/usr/bin/env node
// Lets forge use solc-js as its compiler (forge --use <this file>): forge only needs
// `--version` and `--standard-json` (input on stdin, output on stdout). Imports are already
// inlined by forge, but a resolver is given for the few paths it leaves out.
const fs = require('node:fs');
const path = require('node:path');
const solc = require('solc');

const args = process.argv.slice(2);
if (args.includes('--version')) {
  // forge parses "Version: x.y.z+commit..." from this line.
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write(`solc-forge: only --version and --standard-json are supported (got ${args.join(' ')})\n`);
  process.exit(2);
}
const roots = [process.cwd(), path.join(process.cwd(), 'node_modules')];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--base-path' || args[i] === '--include-path') roots.push(args[i + 1]);
}
function findImports(p) {
  for (const root of roots) {
    const full = path.resolve(root, p);
    if (fs.existsSync(full)) return { contents: fs.readFileSync(full, 'utf8') };
  }
  return { error: `not found: ${p}` };
}
const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImports }));
