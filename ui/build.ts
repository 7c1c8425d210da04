/**
 * Builds the web UI into `ui/dist` with Vite (what the coordinator serves), and says whether a build is needed:
 * `runsurge lab` and the browser tests build only when a source file is newer than the last build.
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import solid from 'vite-plugin-solid'
import type { InlineConfig } from 'vite'

export const UI_ROOT = import.meta.dirname
export const UI_DIST = join(UI_ROOT, 'dist')

/** The Vite configuration of the app (also what `ui/vite.config.ts` exports for `vite dev`). */
export function uiConfig (options: { logLevel?: InlineConfig['logLevel'] } = {}): InlineConfig {
  return {
    root: UI_ROOT,
    configFile: false,
    logLevel: options.logLevel ?? 'warn',
    plugins: [solid()],
    build: { outDir: UI_DIST, emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
    // `vite dev` in ui/: the API comes from a coordinator on the default port.
    server: { proxy: { '/api': 'http://127.0.0.1:8080', '/docs': 'http://127.0.0.1:8080' } }
  }
}

async function newestInside (path: string): Promise<number> {
  const info = await stat(path)
  if (!info.isDirectory()) return info.mtimeMs
  let newest = info.mtimeMs
  for (const entry of await readdir(path)) newest = Math.max(newest, await newestInside(join(path, entry)))
  return newest
}

/** True when there is no build, or a source of the UI (or a schema it reads types from) changed since. */
export async function uiBuildNeeded (): Promise<boolean> {
  let built: number
  try {
    built = (await stat(join(UI_DIST, 'index.html'))).mtimeMs
  } catch {
    return true
  }
  const sources = [join(UI_ROOT, 'src'), join(UI_ROOT, 'public'), join(UI_ROOT, 'index.html'), join(UI_ROOT, 'build.ts')]
  const newest = Math.max(...await Promise.all(sources.map(async path => await newestInside(path).catch(() => 0))))
  return newest > built
}

/** Builds the UI when needed (or always, with `force`); resolves with whether it built and how long it took. */
export async function buildUi (options: { force?: boolean, logLevel?: InlineConfig['logLevel'] } = {}): Promise<{ built: boolean, ms: number }> {
  const started = performance.now()
  if (options.force !== true && !await uiBuildNeeded()) return { built: false, ms: 0 }
  // Loaded on demand: a coordinator that only serves a build never loads Vite.
  const { build } = await import('vite')
  await build(uiConfig(options.logLevel !== undefined ? { logLevel: options.logLevel } : {}))
  return { built: true, ms: Math.round(performance.now() - started) }
}
