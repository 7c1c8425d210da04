#!/usr/bin/env node
// The `runsurge` entry. It needs Node.js 22+ (libp2p 3); when started by an older node (Debian's 20),
// it re-runs itself with the Node.js binary that the project pins through npm (the `node` package).
// It runs the JavaScript build in dist/ (scripts/build.mjs, made by `npm ci` and before the tests), or the TypeScript sources through
// tsx when there is no build or a source changed after it (a developer's edit is never ignored).
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
// A namespace import: a named one of what Node.js 20 lacks (enableCompileCache) would fail before the re-run below.
import * as nodeModule from 'node:module'
import { dirname, join } from 'node:path'

const ROOT = join(import.meta.dirname, '..')

/**
 * True when dist/ holds a build of this copy of the project that no source is newer than (a few hundred stat calls:
 * about a millisecond). See scripts/build.mjs.
 */
function buildIsFresh () {
  let stamp
  try {
    stamp = JSON.parse(readFileSync(join(ROOT, 'dist', 'build.json'), 'utf8'))
  } catch {
    return false
  }
  const newer = (path) => {
    const info = statSync(path)
    // Other files (the sandbox's Python, the scanner's rules) are read from the source tree, not built.
    if (!info.isDirectory()) return /\.(ts|json)$/.test(path) && info.mtimeMs > stamp.newestSourceMs
    return readdirSync(path).some(name => name !== '__pycache__' && newer(join(path, name)))
  }
  try {
    return stamp.root === ROOT && !stamp.sources.some(source => newer(join(ROOT, source)))
  } catch {
    return false
  }
}

const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  const require = nodeModule.createRequire(import.meta.url)
  let pinned
  try {
    pinned = join(dirname(require.resolve('node/package.json')), 'bin', 'node')
  } catch {}
  if (pinned === undefined || !existsSync(pinned)) {
    console.error(`runsurge needs Node.js 22 or newer (this is ${process.version}); run \`npm ci\` in the project to get it.`)
    process.exit(1)
  }
  const child = spawn(pinned, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' })
  // Signals sent to this process (a supervisor's SIGTERM, not only a terminal's Ctrl-C) reach the real one.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => { child.kill(signal) })
  child.on('exit', (code, signal) => { process.exit(code ?? (signal != null ? 128 + 1 : 1)) })
} else if (process.env.RUNSURGE_FROM_SOURCES !== '1' && buildIsFresh()) {
  // V8's code cache on disk (in the temporary folder): a later start skips compiling the build again.
  nodeModule.enableCompileCache?.()
  await import('../dist/runsurge.js')
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../cli/src/main.ts')
}
