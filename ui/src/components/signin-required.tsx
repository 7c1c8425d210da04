import { A, useLocation } from '@solidjs/router'
import { Show } from 'solid-js'
import type { Component, ParentProps } from 'solid-js'
import { useSession } from '../stores/session.tsx'

/** Shows its children to a signed-in user, and a way to sign in to anyone else. */
export function SigninRequired (props: ParentProps<{ what: string }>) {
  const session = useSession()
  const location = useLocation()
  const next = (): string => encodeURIComponent(location.pathname + location.search)
  return (
    <Show when={session.ready()} fallback={<p role='status'>Loading…</p>}>
      <Show
        when={session.signedIn()}
        fallback={
          <section class='card signin-required'>
            <h1>Sign in to see {props.what}</h1>
            <p>
              <A href={`/login?next=${next()}`} class='button'>Sign in</A>{' '}
              or <A href={`/register?next=${next()}`}>create an account</A>.
            </p>
          </section>
        }
      >
        {props.children}
      </Show>
    </Show>
  )
}

/** A page for signed-in users only: `export default signinRequired('your jobs', JobsDashboard)`. */
export function signinRequired (what: string, Page: Component): Component {
  return () => <SigninRequired what={what}><Page /></SigninRequired>
}
