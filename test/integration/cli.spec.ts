/**
 * `runsurge coordinator` and `runsurge node` as separate processes, exactly as an operator and a contributor start
 * them, talking over real TCP.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { kill, runsurge, tempDir } from '../helpers/index.ts'
import type { RunsurgeProcess } from '../helpers/index.ts'

interface Info { http: string, multiaddrs: string[], peerId: string, adminToken: string, nodeToken: string }

describe('runsurge coordinator and runsurge node processes', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  const children: RunsurgeProcess[] = []
  const start = (args: string[]): RunsurgeProcess => {
    const child = runsurge(args)
    children.push(child)
    return child
  }
  const coordinatorArgs = (listen: string): string[] =>
    ['coordinator', '--data', join(dir.path, 'coordinator'), '--http', '127.0.0.1:0', '--listen', listen, '--heartbeat-interval', '200', '--dead-after', '3000']
  const nodes = async (info: Info, token = info.adminToken): Promise<Response> =>
    await fetch(`${info.http}/api/nodes`, { headers: { authorization: `Bearer ${token}` } })

  beforeAll(async () => { dir = await tempDir() })
  afterAll(async () => {
    await Promise.all(children.map(async child => { await kill(child) }))
    await dir.remove()
  })

  it('a node registers, the coordinator shows it alive, and it re-attaches after the coordinator is killed and restarted', async () => {
    const coordinator = start(coordinatorArgs('/ip4/127.0.0.1/tcp/0'))
    await coordinator.waitForLine(/"multiaddrs"/)
    const infoPath = join(dir.path, 'coordinator', 'coordinator.json')
    const info: Info = JSON.parse(await readFile(infoPath, 'utf8'))
    expect((await import('node:fs')).statSync(infoPath).mode & 0o777).toBe(0o600)

    const node = start(['node', '--coordinator', info.multiaddrs[0] ?? '', '--token', info.nodeToken, '--data', join(dir.path, 'node'), '--memory', '1G'])
    const registered = await node.waitForLine(/registered with the coordinator as node/)
    const nodeId = JSON.parse(registered).nodeId as string

    const listed = await nodes(info)
    expect(listed.status).toBe(200)
    const body = await listed.json() as { nodes: Array<{ id: string, status: string, memoryBytes: number }> }
    expect(body.nodes).toEqual([expect.objectContaining({ id: nodeId, status: 'alive', memoryBytes: 1024 ** 3 })])

    expect((await nodes(info, 'wrong-token')).status).toBe(401)
    expect((await fetch(`${info.http}/api/nodes`)).status).toBe(401)

    // kill -9 the coordinator, restart it on the same data directory and address: same peer id, same tokens,
    // and the node is alive again without anybody touching it.
    await kill(coordinator)
    const restarted = start(coordinatorArgs(info.multiaddrs[0]?.replace(/\/p2p\/.*$/, '') ?? ''))
    await restarted.waitForLine(/"multiaddrs"/)
    const again: Info = JSON.parse(await readFile(infoPath, 'utf8'))
    expect(again.peerId).toBe(info.peerId)
    expect(again.adminToken).toBe(info.adminToken)
    const afterRestart = await (await nodes(again)).json() as { nodes: Array<{ id: string, status: string }> }
    expect(afterRestart.nodes.map(n => [n.id, n.status])).toEqual([[nodeId, 'alive']])
    // The node's next heartbeat reaches the new process, which knows it from the store.
    expect(JSON.parse(await restarted.waitForLine(/node re-attached/)).node).toBe(nodeId)
    expect(node.exitCode).toBeNull()
  })

  it('a node started without the swarm key of a private mesh exits with a clear error', async () => {
    const key = join(dir.path, 'swarm.key')
    const keygen = start(['keygen', '--out', key])
    await keygen.waitForLine(/wrote swarm key/)
    const coordinator = start(['coordinator', '--data', join(dir.path, 'private'), '--http', '127.0.0.1:0', '--swarm-key', key])
    const ready = JSON.parse(await coordinator.waitForLine(/"multiaddrs"/)) as { multiaddrs: string[] }
    const info: Info = JSON.parse(await readFile(join(dir.path, 'private', 'coordinator.json'), 'utf8'))
    const node = start(['node', '--coordinator', ready.multiaddrs[0] ?? '', '--token', info.nodeToken, '--data', join(dir.path, 'outsider')])
    const [code] = await new Promise<[number | null]>(resolve => node.once('exit', code => { resolve([code]) }))
    expect(code).toBe(1)
    expect(node.output()).toMatch(/runsurge node: could not join the mesh at .* start this node with its swarm key/)
  })
})
