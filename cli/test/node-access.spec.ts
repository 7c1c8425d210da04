/** Where `runsurge node` takes the coordinator and its enrollment token from, and what it says when they are wrong. */
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../../test/helpers/index.ts'
import { resolveNodeAccess } from '../src/node-access.ts'

const ADDRESS = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

describe('runsurge node: coordinator and enrollment token', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  const file = (name: string): string => join(dir.path, name)
  beforeAll(async () => {
    dir = await tempDir()
    await writeFile(file('coordinator.json'), JSON.stringify({ http: 'http://x', multiaddrs: [ADDRESS], nodeToken: 'from-json' }))
    await writeFile(file('token'), 'from-file\n', { mode: 0o600 })
  })
  afterAll(async () => { await dir?.remove() })

  it('takes the token from --token-file, else --token, else RUNSURGE_NODE_TOKEN, else coordinator.json', async () => {
    const coordinator = file('coordinator.json')
    const env = { RUNSURGE_NODE_TOKEN: 'from-env' }
    expect(await resolveNodeAccess({ coordinator, tokenFile: file('token'), env })).toEqual({ coordinator: ADDRESS, token: 'from-file', warnings: [] })
    expect((await resolveNodeAccess({ coordinator, env })).token).toBe('from-env')
    expect((await resolveNodeAccess({ coordinator, env: {} })).token).toBe('from-json')
    expect(await resolveNodeAccess({ coordinator: ADDRESS, env })).toEqual({ coordinator: ADDRESS, token: 'from-env', warnings: [] })
  })

  it('still takes --token, with a warning that every user of the machine can read it', async () => {
    const access = await resolveNodeAccess({ coordinator: ADDRESS, token: 'on-the-command-line', env: { RUNSURGE_NODE_TOKEN: 'from-env' } })
    expect(access.token).toBe('on-the-command-line')
    expect(access.warnings).toEqual([expect.stringMatching(/--token puts the enrollment token on the command line, where every user of this machine can read it \(ps\); use --token-file FILE or RUNSURGE_NODE_TOKEN instead/)])
  })

  it('warns about a token file other users can read', async () => {
    await writeFile(file('open-token'), 'tok\n')
    await chmod(file('open-token'), 0o644)
    const access = await resolveNodeAccess({ coordinator: ADDRESS, tokenFile: file('open-token') })
    expect(access.warnings).toEqual([`--token-file ${file('open-token')} can be read by other users of this machine: chmod 600 ${file('open-token')}`])
  })

  it('refuses a missing, empty or malformed token, and two ways of giving one', async () => {
    await writeFile(file('empty'), '\n \n')
    await writeFile(file('two-words'), 'one two\n')
    await mkdir(file('a-directory'), { recursive: true })
    for (const [options, message] of [
      [{}, /no enrollment token: put the one from "add a node" on the coordinator in a file \(--token-file FILE\) or in RUNSURGE_NODE_TOKEN/],
      [{ tokenFile: file('nope') }, new RegExp(`^--token-file ${file('nope')}: no such file; put the enrollment token`)],
      [{ tokenFile: file('a-directory') }, /: is a directory, not a file/],
      [{ tokenFile: file('empty') }, /--token-file .*empty is empty/],
      [{ tokenFile: file('two-words') }, /must hold the enrollment token alone/],
      [{ token: 'x', tokenFile: file('token') }, /give the enrollment token one way/],
      [{ env: { RUNSURGE_NODE_TOKEN: 'a b' } }, /RUNSURGE_NODE_TOKEN must hold the enrollment token alone/]
    ] as const) {
      await expect(resolveNodeAccess({ coordinator: ADDRESS, ...options })).rejects.toMatchObject({ name: 'NodeUsageError', message: expect.stringMatching(message) })
    }
  })

  it('says which coordinator.json is wrong and how: missing, unreadable, not JSON, without multiaddrs', async () => {
    await writeFile(file('garbage.json'), '{"multiaddrs": [')
    await writeFile(file('no-addresses.json'), '{"http": "http://127.0.0.1:8080", "multiaddrs": []}')
    await writeFile(file('array.json'), '[1, 2]')
    await writeFile(file('locked.json'), '{}')
    await chmod(file('locked.json'), 0o000)
    const cases: Array<[string, RegExp]> = [
      [file('missing.json'), /: no such file; give the coordinator\.json the coordinator wrote/],
      [file('garbage.json'), /garbage\.json is not JSON \(.+\); give the coordinator\.json/],
      [file('no-addresses.json'), /no-addresses\.json has no "multiaddrs"/],
      [file('array.json'), /array\.json has no "multiaddrs"/],
      [dir.path, /: is a directory, not a file/],
      ['not-a-multiaddr-or-file', /^--coordinator not-a-multiaddr-or-file: no such file/]
    ]
    // root reads a file whatever its mode: only a user can be refused.
    if (process.getuid?.() !== 0) cases.push([file('locked.json'), /locked\.json: permission denied/])
    for (const [coordinator, message] of cases) {
      await expect(resolveNodeAccess({ coordinator, token: 't' })).rejects.toMatchObject({ name: 'NodeUsageError', message: expect.stringMatching(message) })
    }
  })
})
