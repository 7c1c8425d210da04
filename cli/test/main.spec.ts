/**
 * The `runsurge` entry: its overview is drawn from commands/index.ts without loading a command module, so it must
 * say exactly what the modules register.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { COMMANDS, registerSummaries } from '../src/commands/index.ts'

const root = (): Command => new Command().name('runsurge').description('Run plain Python on a mesh of sandboxed machines.')

describe('runsurge --help', () => {
  it('lists every command the modules register, with the same arguments and description, in the same order', async () => {
    const full = root()
    const loaded = new Set<unknown>()
    for (const entry of Object.values(COMMANDS)) {
      const module = await entry.load()
      if (loaded.has(module)) continue
      loaded.add(module)
      module.register(full)
    }
    const summaries = root()
    registerSummaries(summaries)
    expect(summaries.commands.map(c => c.name())).toEqual(full.commands.map(c => c.name()))
    expect(summaries.helpInformation()).toBe(full.helpInformation())
  })
})

describe('bin/runsurge.js', () => {
  it('started by the system\'s Node.js (20 on Debian), re-runs itself with the pinned one and answers', async () => {
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'runsurge.js')
    const system = await promisify(execFile)('/usr/bin/node', ['--version'])
    const { stdout } = await promisify(execFile)('/usr/bin/node', [bin, '--help'])
    expect(system.stdout).toMatch(/^v\d+\./)
    expect(stdout).toContain('Usage: runsurge [options] [command]')
    for (const name of Object.keys(COMMANDS)) expect(stdout).toContain(`  ${name} `)
  })
})
