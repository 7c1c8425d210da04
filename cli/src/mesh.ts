/** What the commands that start a local mesh (`run`, `lab`) share: waiting for nodes, passing sandbox options on. */
import { freemem } from 'node:os'
import type { Coordinator } from '../../coordinator/src/index.ts'
import type { SandboxCliOptions } from './commands/sandbox.ts'

/** Resolves once `wanted` nodes are alive in the coordinator's registry; rejects after `timeout` ms. */
export async function waitForNodes (coordinator: Coordinator, wanted: number, timeout = 60_000): Promise<void> {
  const alive = async (): Promise<number> => (await coordinator.registry.list()).filter(node => node.status === 'alive').length
  if (wanted === 0 || await alive() >= wanted) return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { done(); reject(new Error(`fewer than ${wanted} nodes joined within ${timeout / 1000} s`)) }, timeout)
    const onAlive = (): void => { alive().then(n => { if (n >= wanted) { done(); resolve() } }, reject) }
    const done = (): void => { clearTimeout(timer); coordinator.registry.off('node:alive', onAlive) }
    coordinator.registry.on('node:alive', onAlive)
  })
}

/** The `runsurge node` arguments that reproduce these sandbox options. */
export function sandboxArgs (flags: SandboxCliOptions): string[] {
  const args: string[] = []
  if (flags.sandbox !== undefined) args.push('--sandbox', flags.sandbox)
  if (flags.ssh !== undefined) args.push('--ssh', flags.ssh)
  if (flags.sshKey !== undefined) args.push('--ssh-key', flags.sshKey)
  if (flags.sshFingerprint !== undefined) args.push('--ssh-fingerprint', flags.sshFingerprint)
  if (flags.unsafeNoSandbox === true) args.push('--unsafe-no-sandbox')
  return args
}

/** What each node of an embedded mesh offers by default: a share of 80% of the free memory, 64 MiB to 4 GiB. */
export function defaultNodeMemory (nodes: number): number {
  return Math.max(64 * 1024 ** 2, Math.floor(Math.min(freemem() * 0.8 / nodes, 4 * 1024 ** 3)))
}
