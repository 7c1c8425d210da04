/**
 * Where the project's own files are (examples, the UI, the `runsurge` entry), found the same way whether a module
 * runs from its source in `src/` or compiled in `dist/` (see scripts/build.mjs), which sit at different depths.
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** The project's root: the nearest folder at or above `from` that holds a package.json. */
export function projectRoot (from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}: is this a copy of RunSurge?`)
  }
}
