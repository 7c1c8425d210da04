import { writeFile } from 'node:fs/promises'
import { createSwarmKey } from '../../../protocols/src/index.ts'
import type { Command } from 'commander'

export function register (program: Command): void {
  program.command('keygen')
    .description('write a swarm key for a private mesh: give the same file to the coordinator and every node (--swarm-key)')
    .option('-o, --out <file>', 'where to write the key', 'swarm.key')
    .option('--force', 'overwrite an existing file')
    .action(async (options: { out: string, force?: boolean }) => {
      try {
        await writeFile(options.out, createSwarmKey(), { mode: 0o600, flag: options.force === true ? 'w' : 'wx' })
      } catch (err: any) {
        if (err?.code === 'EEXIST') program.error(`${options.out} exists; pass --force to replace it (every peer then needs the new key)`, { exitCode: 2 })
        throw err
      }
      console.log(`wrote swarm key ${options.out}: keep it secret, copy it to every peer of the mesh`)
    })
}
