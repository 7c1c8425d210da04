/**
 * The commands `runsurge` has: for each, the module that registers it (loaded only when it runs) and what the
 * overview (`runsurge --help`) shows of it, so the overview loads no command module (no libp2p, no Fastify, no
 * analyzer: it answers in a few tens of milliseconds). cli/test/main.spec.ts checks these summaries against what the
 * modules register.
 */
import { Option } from 'commander'
import type { Command } from 'commander'

export interface CommandModule {
  register: (program: Command) => void
}

export interface CommandEntry {
  load: () => Promise<CommandModule>
  /** The command's description, as its module registers it. */
  summary: string
  /** Its arguments as the overview shows them, e.g. `<job>`. */
  args?: string
}

const jobs = async (): Promise<CommandModule> => await import('./jobs.ts')

/** In the order the overview lists them. */
export const COMMANDS: Record<string, CommandEntry> = {
  run: {
    load: async () => await import('./run.ts'),
    args: '<job>',
    summary: 'run a job and print its result: on an embedded local mesh (a coordinator and --nodes worker nodes, each its own libp2p peer), or on --coordinator'
  },
  submit: { load: jobs, args: '<job>', summary: 'submit a job to a coordinator; prints its id (with --json, an object whose "id" is the job id)' },
  status: { load: jobs, args: '<id>', summary: 'a job\'s status and progress' },
  result: { load: jobs, args: '<id>', summary: 'a job\'s result (the value its program returned)' },
  coordinator: {
    load: async () => await import('./coordinator.ts'),
    summary: 'run the coordinator: HTTP API, node registry, and the libp2p peer nodes join'
  },
  node: {
    load: async () => await import('./node.ts'),
    summary: 'run a worker node: join the coordinator\'s mesh and run tasks in a sandbox'
  },
  lab: {
    load: async () => await import('./lab.ts'),
    summary: 'a lab mesh in a box: coordinator + web UI, three nodes and a demo account; Ctrl-C stops it all'
  },
  keygen: {
    load: async () => await import('./keygen.ts'),
    summary: 'write a swarm key for a private mesh: give the same file to the coordinator and every node (--swarm-key)'
  },
  analyze: {
    load: async () => await import('./analyze.ts'),
    args: '<job>',
    summary: 'scan and analyze a job: findings, function classes, dependency graph, blocks, memory estimates'
  },
  sandbox: {
    load: async () => await import('./sandbox.ts'),
    args: '<job>',
    summary: 'run one Python job (main(data)) exactly as a node runs a task, without the scanner; prints status, result, error and metrics'
  }
}

/**
 * Registers every command as its summary only (name, arguments, description): what the overview and an unknown
 * command's error need. Each has options, which the overview shows as `[options]`.
 */
export function registerSummaries (program: Command): void {
  for (const [name, entry] of Object.entries(COMMANDS)) {
    const command = program.command(name).description(entry.summary).addOption(new Option('--options').hideHelp())
    if (entry.args !== undefined) command.argument(entry.args)
  }
}
