import { A, useNavigate, useSearchParams } from '@solidjs/router'
import { Show, createSignal, createUniqueId } from 'solid-js'
import { ErrorNotice } from './error-notice.tsx'
import { InputField } from './input-field.tsx'
import { useSession } from '../stores/session.tsx'

/** Only paths of this site are followed after signing in (an open redirect would send people anywhere). */
export function safeNext (next: string | string[] | undefined): string {
  const value = Array.isArray(next) ? next[0] : next
  return value !== undefined && value.startsWith('/') && !value.startsWith('//') ? value : '/jobs'
}

/** Sign in and register share one form: name, password, and where to go next. */
export function AuthForm (props: { kind: 'login' | 'register' }) {
  const session = useSession()
  const navigate = useNavigate()
  const [params] = useSearchParams()
  const id = createUniqueId()
  const [name, setName] = createSignal('')
  const [password, setPassword] = createSignal('')
  const [error, setError] = createSignal<unknown>()
  const [busy, setBusy] = createSignal(false)
  const registering = (): boolean => props.kind === 'register'
  const submit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      if (registering()) await session.register(name().trim(), password())
      else await session.login(name().trim(), password())
      navigate(safeNext(params.next), { replace: true })
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  return (
    <section class='card auth'>
      <h1>{registering() ? 'Create an account' : 'Sign in'}</h1>
      <form onSubmit={(event) => { submit(event).catch(() => {}) }} aria-describedby={`${id}-help`}>
        <ErrorNotice error={error()} />
        <InputField
          id={`${id}-name`}
          label='Account name'
          help={registering() ? '3 to 64 letters, digits, “_”, “.” or “-”.' : undefined}
          name='name'
          autocomplete='username'
          required
          minLength={registering() ? 3 : 1}
          maxLength={64}
          pattern={registering() ? '[A-Za-z0-9_.\\-]+' : undefined}
          value={name()}
          onInput={(event) => setName(event.currentTarget.value)}
        />
        <InputField
          id={`${id}-password`}
          label='Password'
          help={registering() ? 'At least 8 characters.' : undefined}
          name='password'
          type='password'
          autocomplete={registering() ? 'new-password' : 'current-password'}
          required
          minLength={registering() ? 8 : 1}
          value={password()}
          onInput={(event) => setPassword(event.currentTarget.value)}
        />
        <button type='submit' class='button' disabled={busy()}>{busy() ? 'Please wait…' : registering() ? 'Create account' : 'Sign in'}</button>
      </form>
      <p id={`${id}-help`} class='muted'>
        <Show
          when={registering()}
          fallback={<>New here? <A href={`/register${params.next !== undefined ? `?next=${encodeURIComponent(safeNext(params.next))}` : ''}`}>Create an account</A>.</>}
        >
          Already have an account? <A href={`/login${params.next !== undefined ? `?next=${encodeURIComponent(safeNext(params.next))}` : ''}`}>Sign in</A>.
        </Show>
      </p>
    </section>
  )
}
