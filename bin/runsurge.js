#!/usr/bin/env node
// The `runsurge` entry. It needs Node.js 22+ (libp2p 3); when started by an older node (Debian's 20),
// it re-runs itself with the Node.js binary that the project pins through npm (the `node` package).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  const require = createRequire(import.meta.url)
  let pinned
  try {
    pinned = join(dirname(require.resolve('node/package.json')), 'bin', 'node')
  } catch {}
  if (pinned === undefined || !existsSync(pinned)) {
    console.error(`runsurge needs Node.js 22 or newer (this is ${process.version}); run \`npm ci\` in the project to get it.`)
    process.exit(1)
  }
  const result = spawnSync(pinned, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' })
  process.exit(result.status ?? 1)
}

const { register } = await import('tsx/esm/api')
register()
await import('../cli/src/main.ts')
