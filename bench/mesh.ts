/** A warm mesh for benchmarks: a coordinator in this process and node processes started as contributors start them. */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { pino } from 'pino'
import { waitForNodes } from '../cli/src/mesh.ts'
import { startCoordinator } from '../coordinator/src/index.ts'
import type { Coordinator } from '../coordinator/src/index.ts'

const BIN = join(import.meta.dirname, '..', 'bin', 'runsurge.js')

export interface WarmMesh {
  coordinator: Coordinator
  /** Submits a job (script and input as text), waits for its end through its event stream; resolves with its id and result text. */
  run(script: string, input: string, inputName: string): Promise<{ id: string, result: string }>
  /** The job as the API shows it. */
  job(id: string): Promise<{ plan: unknown }>
  stop(): Promise<void>
}

export async function startWarmMesh (dir: string, nodes: number, options: { nodeArgs?: string[] } = {}): Promise<WarmMesh> {
  const coordinator = await startCoordinator({
    dataDir: join(dir, 'coordinator'),
    logger: pino({ level: 'silent' })
  })
  const children = Array.from({ length: nodes }, (_, i) => spawn(process.execPath, [
    BIN, 'node', '--coordinator', join(dir, 'coordinator', 'coordinator.json'), '--data', join(dir, `node-${i}`), ...(options.nodeArgs ?? [])
  ], { stdio: 'ignore', env: { ...process.env, RUNSURGE_LOG_LEVEL: 'warn' } }))
  await waitForNodes(coordinator, nodes)
  const url = coordinator.info.http
  const headers = { authorization: `Bearer ${coordinator.info.adminToken}` }
  return {
    coordinator,
    async run (script, input, inputName) {
      const form = new FormData()
      form.set('script', new Blob([script]), 'job.py')
      form.append('input', new Blob([input]), inputName)
      const { id } = await (await fetch(`${url}/api/jobs`, { method: 'POST', body: form, headers })).json() as { id: string }
      await (await fetch(`${url}/api/jobs/${id}/events`, { headers })).text() // the stream ends when the job does
      return { id, result: await (await fetch(`${url}/api/jobs/${id}/result`, { headers })).text() }
    },
    async job (id) {
      return await (await fetch(`${url}/api/jobs/${id}`, { headers })).json() as { plan: unknown }
    },
    async stop () {
      for (const child of children) child.kill('SIGTERM')
      await Promise.all(children.map(async child => await once(child, 'exit')))
      await coordinator.close()
    }
  }
}
