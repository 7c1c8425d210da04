/**
 * The only place the UI talks to the coordinator: same-origin requests (the session cookie rides along), JSON in
 * and out, and the API's `{ error, message }` answers turned into an `ApiError` whose message says what to do.
 */

export class ApiError extends Error {
  override name = 'ApiError'
  readonly status: number
  readonly code: string

  constructor (status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

export interface RequestOptions {
  method?: string
  /** Sent as JSON. */
  json?: unknown
  /** Sent as multipart/form-data. */
  form?: FormData
  signal?: AbortSignal
}

export async function request<T> (path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  let body: BodyInit | undefined
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.json)
  } else if (options.form !== undefined) {
    body = options.form
  }
  let response: Response
  try {
    response = await fetch(path, {
      method: options.method ?? (body !== undefined ? 'POST' : 'GET'),
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {})
    })
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err
    throw new ApiError(0, 'Network Error', 'cannot reach the coordinator: check that it is running, then try again')
  }
  if (response.status === 204) return undefined as T
  const text = await response.text()
  let data: unknown
  try {
    data = text === '' ? undefined : JSON.parse(text)
  } catch {
    data = undefined
  }
  if (!response.ok) {
    const reply = (data ?? {}) as { error?: string, message?: string }
    throw new ApiError(response.status, reply.error ?? response.statusText, reply.message ?? `the coordinator answered ${response.status}`)
  }
  return data as T
}

/** Whether an error means "not signed in". */
export function isUnauthorized (err: unknown): boolean {
  return err instanceof ApiError && err.status === 401
}
