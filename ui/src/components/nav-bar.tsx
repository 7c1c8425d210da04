import { A, useNavigate } from '@solidjs/router'
import { Show, createSignal } from 'solid-js'
import { useSession } from '../stores/session.tsx'

/** The site's header: brand, sections, and who is signed in. Collapses behind a menu button on small screens. */
export function NavBar () {
  const session = useSession()
  const navigate = useNavigate()
  const [open, setOpen] = createSignal(false)
  const close = (): void => { setOpen(false) }
  const signOut = async (): Promise<void> => {
    await session.logout()
    close()
    navigate('/')
  }
  return (
    <header class='site-header'>
      <nav class='nav' aria-label='Main'>
        <A href='/' class='brand' end onClick={close}>
          <svg class='brand__mark' viewBox='0 0 24 24' aria-hidden='true'><path d='M13 2 4 14h7l-1 8 9-12h-7z' /></svg>
          RunSurge
        </A>
        <button
          type='button'
          class='nav__toggle'
          aria-expanded={open()}
          aria-controls='nav-menu'
          onClick={() => setOpen(!open())}
        >
          Menu
        </button>
        <div id='nav-menu' class='nav__menu' classList={{ 'nav__menu--open': open() }}>
          <ul class='nav__links'>
            <li><A href='/submit' onClick={close}>Submit</A></li>
            <li><A href='/jobs' onClick={close}>Jobs</A></li>
            <li><A href='/nodes' onClick={close}>Nodes</A></li>
            <li><A href='/guide' onClick={close}>Docs</A></li>
          </ul>
          <div class='nav__account'>
            <Show
              when={session.account()}
              fallback={
                <Show when={session.ready()}>
                  <A href='/login' onClick={close}>Sign in</A>
                  <A href='/register' class='button button--small' onClick={close}>Register</A>
                </Show>
              }
            >
              {(account) => (
                <>
                  <span class='nav__who'>Signed in as <strong>{account().name}</strong></span>
                  <button type='button' class='button button--small button--quiet' onClick={() => { signOut().catch(() => {}) }}>Sign out</button>
                </>
              )}
            </Show>
          </div>
        </div>
      </nav>
    </header>
  )
}
