// `npm run bench:serving:bundle [-- --out DIR]`: the serving benchmark as two self-contained files, for a host
// that has Node but not this project's node_modules (the GPU hosts lent to sessions have no npm registry, and
// node_modules is far too large to copy there). It writes DIR/serving/run.mjs (the benchmark) and
// DIR/serving/serve.mjs (one run's child process), and copies the `webgpu` package's loader and its Linux
// x64 Dawn binary to DIR/node_modules/webgpu (a native module, which a bundle cannot hold). On that host:
//
//   cd DIR && TRIBUTARY_BENCH_ARM=$PWD/serving/serve.mjs node serving/run.mjs --backend webgpu \
//     --adapter-loader main --model <the repository>/serving/models/tributary-tiny
//
// `--adapter-loader main`, because the loader's worker thread starts from a TypeScript file through tsx;
// `--model` with a path, because the bundle does not sit where the default model's path is worked out from.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));
const { values } = parseArgs({ options: { out: { type: 'string', default: path.join(root, '.scratch', 'bench-bundle') }, help: { type: 'boolean', short: 'h', default: false } } });
if (values.help) {
  process.stdout.write('usage: tsx bench/serving/bundle.ts [--out DIR]   (default .scratch/bench-bundle)\n');
  process.exit(0);
}
const out = path.resolve(values.out);
// Replaces an earlier bundle, and nothing else: a folder that holds other files is refused.
if (existsSync(out) && readdirSync(out).length > 0 && !existsSync(path.join(out, 'serving', 'run.mjs'))) {
  process.stderr.write(`--out ${out}: the folder holds files that are not an earlier bundle; name an empty or new folder\n`);
  process.exit(2);
}
rmSync(out, { recursive: true, force: true });

// Native or optional packages stay outside the bundle: webgpu is copied beside it; the others are never
// loaded by the benchmark (chdb: the data spine; tfjs-node: a backend this project cannot install).
const external = ['webgpu', 'chdb', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];
// One build, two self-contained outputs (the modules they share are read and parsed once).
await build({
  entryPoints: { run: path.join(root, 'bench', 'serving', 'run.ts'), serve: path.join(root, 'bench', 'serving', 'arms', 'serve.ts') },
  outdir: path.join(out, 'serving'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  external,
  // Some bundled CommonJS modules call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __tributaryRequire } from 'node:module'; const require = __tributaryRequire(import.meta.url);" },
  logLevel: 'warning',
});

const webgpu = path.join(root, 'node_modules', 'webgpu');
const to = path.join(out, 'node_modules', 'webgpu');
mkdirSync(path.join(to, 'dist', 'linux-x64'), { recursive: true });
for (const file of ['package.json', 'index.js', path.join('dist', 'linux-x64', 'dawn.node')]) copyFileSync(path.join(webgpu, file), path.join(to, file));
process.stdout.write(`wrote ${path.join(out, 'serving')}/run.mjs and serve.mjs, and ${to} (Linux x64)\n`);
