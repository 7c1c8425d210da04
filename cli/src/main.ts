/**
 * The `runsurge` command: argument parsing and wiring only. Each subcommand lives in `commands/<name>.ts`
 * and exports `register(program)`.
 */
import { Command } from 'commander'
import * as analyze from './commands/analyze.ts'
import * as coordinator from './commands/coordinator.ts'
import * as jobs from './commands/jobs.ts'
import * as keygen from './commands/keygen.ts'
import * as node from './commands/node.ts'
import * as run from './commands/run.ts'
import * as sandbox from './commands/sandbox.ts'

const program = new Command()
  .name('runsurge')
  .description('Run plain Python on a mesh of sandboxed machines.')
  .showHelpAfterError()

for (const command of [run, jobs, coordinator, node, keygen, analyze, sandbox]) {
  command.register(program)
}

await program.parseAsync(process.argv)
