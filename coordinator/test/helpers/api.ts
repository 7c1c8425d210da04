/**
 * A real coordinator (LevelDB in a temporary directory, libp2p on loopback) driven through `app.inject`, with
 * shortcuts for the account routes. Every answer is kept, so a test can check that no secret ever left.
 */
import { join } from 'node:path'
import { startCoordinator } from '../../src/index.ts'
import { tempDir, testLogger } from '../../../test/helpers/index.ts'
import type { Coordinator, CoordinatorOptions } from '../../src/index.ts'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'

export interface TestApi {
  coordinator: Coordinator
  /** `app.inject`, recording the answer. */
  request(options: InjectOptions): Promise<LightMyRequestResponse>
  /** Every answer so far, headers and body, as text. */
  answers(): string[]
  /** Registers `name` and logs in; returns the session cookie header. */
  signUp(name: string, password?: string): Promise<{ cookie: string, id: string }>
  close(): Promise<void>
}

export const PASSWORD = 'correct horse battery'

export async function startTestApi (options: Partial<CoordinatorOptions> = {}): Promise<TestApi> {
  const dir = await tempDir()
  const coordinator = await startCoordinator({
    dataDir: join(dir.path, 'coordinator'), logger: testLogger(), authRateLimit: { max: 1_000 }, ...options
  })
  const answers: string[] = []
  const request = async (inject: InjectOptions): Promise<LightMyRequestResponse> => {
    const response = await coordinator.app.inject(inject)
    answers.push(JSON.stringify(response.headers) + '\n' + response.body)
    return response
  }
  return {
    coordinator,
    request,
    answers: () => answers,
    signUp: async (name, password = PASSWORD) => {
      const registered = await request({ method: 'POST', url: '/api/auth/register', payload: { name, password } })
      if (registered.statusCode !== 201) throw new Error(`register ${name}: ${registered.statusCode} ${registered.body}`)
      const login = await request({ method: 'POST', url: '/api/auth/login', payload: { name, password } })
      const session = login.cookies.find(cookie => cookie.name === 'runsurge_session')
      if (login.statusCode !== 200 || session === undefined) throw new Error(`login ${name}: ${login.statusCode} ${login.body}`)
      return { cookie: `runsurge_session=${session.value}`, id: registered.json().account.id }
    },
    close: async () => {
      await coordinator.close()
      await dir.remove()
    }
  }
}
