#!/usr/bin/env node
/**
 * Builds what `runsurge` runs: cli/src/main.ts and everything it imports, compiled and bundled by esbuild into
 * `dist/runsurge.js` and its chunks, one chunk per command's own modules (a command loads only what it uses, as from
 * the sources), with the libraries bundled too: a cold start reads a few large files instead of parsing thousands of
 * small ones. Native and self-locating packages stay in node_modules (EXTERNAL).
 *
 * A module's `import.meta.url`, `import.meta.dirname` and `import.meta.filename` are its source's, so the files it
 * reads beside itself (the sandbox's Python runtime, the scanner's rules, the partials) are read from the source tree.
 * The build is tied to where the project is: `dist/build.json` records the root and the newest source time, and
 * `bin/runsurge.js` runs the sources through tsx instead when the project moved or a source is newer than the build.
 *
 * Runs at install (`npm ci`, the `prepare` script) and before the tests; takes a few seconds.
 *
 *   node scripts/build.mjs [--verbose]
 */
import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const ROOT = join(import.meta.dirname, '..')
const OUT = join(ROOT, 'dist')
/** The source trees `runsurge` runs; a change to a .ts or .json file in them makes the build stale (ui/build.ts builds the web app). */
const SOURCES = ['cli/src', 'coordinator/src', 'node/src', 'analyzer/src', 'planner/src', 'protocols/src', 'ui/build.ts']
/**
 * Packages loaded from node_modules: native addons, packages that read their own files next to their modules
 * (@fastify/swagger-ui's static files, pino's worker transports), and the toolchain `runsurge lab` uses to build the UI.
 */
const EXTERNAL = [
  'classic-level', '@ast-grep/napi', '@ast-grep/lang-python', '@node-rs/argon2', 'ssh2', 'cpu-features',
  '@fastify/swagger-ui', '@fastify/swagger', 'pino', 'vite', 'vite-plugin-solid', 'esbuild', 'tsx'
]

/** Every file under `path` (or `path` itself), Python caches left out. */
async function walk (path) {
  if (!(await stat(path)).isDirectory()) return [path]
  const files = []
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.name !== '__pycache__') files.push(...await walk(join(path, entry.name)))
  }
  return files
}

/** Our own modules keep their source's location (see above); node_modules' are left alone. */
const sourceLocation = {
  name: 'source-location',
  setup (b) {
    b.onLoad({ filter: /\.ts$/ }, async args => {
      if (args.path.includes('/node_modules/')) return undefined
      const contents = (await readFile(args.path, 'utf8'))
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
        .replaceAll('import.meta.filename', JSON.stringify(args.path))
      return { contents, loader: 'ts' }
    })
  }
}

const started = performance.now()
const files = (await Promise.all(SOURCES.map(path => walk(join(ROOT, path))))).flat()
await rm(OUT, { recursive: true, force: true })
const result = await build({
  entryPoints: { runsurge: join(ROOT, 'cli', 'src', 'main.ts') },
  outdir: OUT,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  external: EXTERNAL,
  plugins: [sourceLocation],
  platform: 'node',
  format: 'esm',
  target: 'node22',
  sourcemap: 'linked',
  // CommonJS libraries bundled into ES modules still call require() for Node's built-ins.
  banner: { js: 'import { createRequire as __runsurgeRequire } from \'node:module\'; const require = __runsurgeRequire(import.meta.url);' },
  metafile: true,
  logLevel: 'warning'
})
const built = files.filter(file => /\.(ts|json)$/.test(file))
const newest = Math.max(...await Promise.all(built.map(async file => (await stat(file)).mtimeMs)))
await writeFile(join(OUT, 'build.json'), JSON.stringify({ root: ROOT, builtAt: Date.now(), newestSourceMs: newest, sources: SOURCES }) + '\n')
if (process.argv.includes('--verbose')) {
  const outputs = Object.entries(result.metafile.outputs).filter(([name]) => name.endsWith('.js'))
  const bytes = outputs.reduce((sum, [, output]) => sum + output.bytes, 0)
  console.log(`runsurge build: ${Object.keys(result.metafile.inputs).length} modules into ${outputs.length} files (${(bytes / 2 ** 20).toFixed(1)} MiB) in ${Math.round(performance.now() - started)} ms`)
}
