#!/usr/bin/env node
/**
 * Compiles the runnable packages (cli, coordinator, node, analyzer, planner, protocols: their `src/`) to JavaScript
 * in `dist/`, one .js file per .ts file at the same relative path, so `runsurge` starts without compiling anything.
 * Imports stay imports (nothing is bundled: a command loads only the modules it uses) with `.ts` specifiers rewritten
 * to `.js`; every other file under a `src/` (the sandbox's Python runtime, the scanner's rules, JSON data) is copied
 * beside them, so paths relative to a module hold in `dist/` too. Ends with `dist/build.json`, the stamp `bin/runsurge.js`
 * compares with the sources' times: a source edited after the build makes it run the sources instead (through tsx).
 *
 * Runs at install (`npm ci`, the `prepare` script) and before the tests; takes about a second.
 *
 *   node scripts/build.mjs
 */
import { copyFile, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { build } from 'esbuild'

const ROOT = join(import.meta.dirname, '..')
const OUT = join(ROOT, 'dist')
/** The source trees that run (tests, benchmarks and the UI app are not part of the build). */
export const SOURCE_DIRS = ['cli/src', 'coordinator/src', 'node/src', 'analyzer/src', 'planner/src', 'protocols/src']

/** Every file under `dir`, recursively (Python caches left out). */
async function walk (dir) {
  const files = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === '__pycache__') continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) files.push(...await walk(path))
    else if (entry.isFile()) files.push(path)
  }
  return files
}

/** Leaves every import external, a relative `.ts` one pointing at its compiled `.js`. */
const keepImports = {
  name: 'keep-imports',
  setup (b) {
    b.onResolve({ filter: /.*/ }, args => {
      if (args.kind === 'entry-point') return undefined
      const relativeTs = /^\.\.?\//.test(args.path) && args.path.endsWith('.ts')
      return { path: relativeTs ? args.path.slice(0, -3) + '.js' : args.path, external: true }
    })
  }
}

const started = performance.now()
// ui/build.ts is how `runsurge lab` builds the web app (the app itself is built by Vite into ui/dist).
const files = [...(await Promise.all(SOURCE_DIRS.map(dir => walk(join(ROOT, dir))))).flat(), join(ROOT, 'ui', 'build.ts')]
const sources = files.filter(file => file.endsWith('.ts') && !file.endsWith('.d.ts'))
const assets = files.filter(file => !file.endsWith('.ts'))
await rm(OUT, { recursive: true, force: true })
await build({
  entryPoints: sources,
  outdir: OUT,
  outbase: ROOT,
  bundle: true,
  plugins: [keepImports],
  platform: 'node',
  format: 'esm',
  target: 'node22',
  sourcemap: 'linked',
  logLevel: 'warning'
})
await Promise.all(assets.map(async file => {
  const to = join(OUT, relative(ROOT, file))
  await mkdir(dirname(to), { recursive: true })
  await copyFile(file, to)
}))
// The newest source time at the build: bin/runsurge.js runs dist/ only while no source is newer.
const newest = Math.max(...await Promise.all(files.map(async file => (await stat(file)).mtimeMs)))
await writeFile(join(OUT, 'build.json'), JSON.stringify({ builtAt: Date.now(), newestSourceMs: newest, sourceDirs: SOURCE_DIRS, files: files.length }) + '\n')
if (process.argv.includes('--verbose')) console.log(`runsurge build: ${sources.length} modules, ${assets.length} other files in ${Math.round(performance.now() - started)} ms`)
