/**
 * `runsurge coordinator` and `runsurge node` as separate processes, exactly as an operator and a contributor start
 * them, talking over real TCP.
 */
import { once } from 'node:events'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { kill, runsurge, tempDir } from '../helpers/index.ts'
import type { RunsurgeProcess } from '../helpers/index.ts'

interface Info { http: string, multiaddrs: string[], peerId: string, adminToken: string, nodeToken: string }

describe('runsurge coordinator and runsurge node processes', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  const children: RunsurgeProcess[] = []
  const start = (args: string[], env: Record<string, string> = {}): RunsurgeProcess => {
    const child = runsurge(args, env)
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

    const node = start(['node', '--coordinator', info.multiaddrs[0] ?? '', '--data', join(dir.path, 'node'), '--memory', '1G', '--benchmark-file', join(dir.path, 'benchmark.json')], { RUNSURGE_NODE_TOKEN: info.nodeToken })
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
    const node = start(['node', '--coordinator', ready.multiaddrs[0] ?? '', '--data', join(dir.path, 'outsider')], { RUNSURGE_NODE_TOKEN: info.nodeToken })
    const [code] = await new Promise<[number | null]>(resolve => node.once('exit', code => { resolve([code]) }))
    expect(code).toBe(1)
    expect(node.output()).toMatch(/runsurge node: could not join the mesh at .* start this node with its swarm key/)
  })

  it('a node takes its token from a file or the environment, never needing it on its command line; --token still works, with a warning', async () => {
    const coordinator = start(['coordinator', '--data', join(dir.path, 'tokens'), '--http', '127.0.0.1:0'])
    await coordinator.waitForLine(/"multiaddrs"/)
    const info: Info = JSON.parse(await readFile(join(dir.path, 'tokens', 'coordinator.json'), 'utf8'))
    const tokenFile = join(dir.path, 'node-token')
    await writeFile(tokenFile, `${info.nodeToken}\n`, { mode: 0o600 })
    const args = (name: string): string[] => ['node', '--coordinator', info.multiaddrs[0] ?? '', '--data', join(dir.path, name), '--memory', '256M', '--benchmark-file', join(dir.path, 'benchmark.json')]
    const fromFile = start([...args('from-file'), '--token-file', tokenFile])
    const fromEnv = start(args('from-env'), { RUNSURGE_NODE_TOKEN: info.nodeToken })
    const fromArgs = start([...args('from-args'), '--token', info.nodeToken])
    await Promise.all([fromFile, fromEnv, fromArgs].map(async node => await node.waitForLine(/registered with the coordinator as node/)))
    for (const node of [fromFile, fromEnv]) {
      expect(await readFile(`/proc/${node.pid ?? 0}/cmdline`, 'utf8')).not.toContain(info.nodeToken)
      expect(node.output()).not.toMatch(/warning/)
    }
    expect(fromArgs.output()).toContain('runsurge node: warning: --token puts the enrollment token on the command line, where every user of this machine can read it (ps); use --token-file FILE or RUNSURGE_NODE_TOKEN instead')
    const listed = await (await nodes(info)).json() as { nodes: Array<{ status: string }> }
    expect(listed.nodes.map(node => node.status)).toEqual(['alive', 'alive', 'alive'])
  })

  it('a node given a garbage, missing or incomplete coordinator.json exits 2 with a message naming the file, and no stack trace', async () => {
    const garbage = join(dir.path, 'garbage.json')
    await writeFile(garbage, 'this is not { json')
    const empty = join(dir.path, 'empty.json')
    await writeFile(empty, '{"http": "http://127.0.0.1:1"}')
    const cases: Array<[string, RegExp]> = [
      [garbage, /^runsurge node: --coordinator \S*garbage\.json is not JSON \(.+\); give the coordinator\.json the coordinator wrote into its data directory, or its multiaddr/],
      [join(dir.path, 'missing.json'), /^runsurge node: --coordinator \S*missing\.json: no such file; give the coordinator\.json/],
      [empty, /^runsurge node: --coordinator \S*empty\.json has no "multiaddrs"/]
    ]
    await Promise.all(cases.map(async ([file, message]) => {
      const node = start(['node', '--coordinator', file, '--data', join(dir.path, 'never')], { RUNSURGE_NODE_TOKEN: 'x' })
      const [code] = await once(node, 'exit') as [number | null]
      expect(code).toBe(2)
      const lines = node.output().split('\n').filter(line => line !== '')
      expect(lines).toEqual([expect.stringMatching(message)])
      expect(node.output()).not.toMatch(/SyntaxError|\n\s+at /)
    }))
  })
})
