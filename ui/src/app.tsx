/**
 * The RunSurge web app: routes and the layout around them. It talks to the coordinator only through `api/`, and
 * knows who is signed in through the session store.
 */
import { A, Route, Router, useLocation } from '@solidjs/router'
import { createEffect, on } from 'solid-js'
import type { RouteSectionProps } from '@solidjs/router'
import { NavBar } from './components/nav-bar.tsx'
import Guide from './routes/guide.tsx'
import Home from './routes/home.tsx'
import JobPage from './routes/job.tsx'
import Jobs from './routes/jobs.tsx'
import Login from './routes/login.tsx'
import Nodes from './routes/nodes.tsx'
import NotFound from './routes/not-found.tsx'
import Register from './routes/register.tsx'
import Submit from './routes/submit.tsx'
import { SessionProvider } from './stores/session.tsx'
import type { SessionStore } from './stores/session.tsx'

function Layout (props: RouteSectionProps) {
  const location = useLocation()
  let main: HTMLElement | undefined
  // After a navigation inside the app, focus goes to the new page (as a page load would put it), so keyboard and
  // screen reader users start there; the first load leaves focus where the browser puts it.
  createEffect(on(() => location.pathname, () => { main?.focus({ preventScroll: true }) }, { defer: true }))
  return (
    <>
      <a class='skip-link' href='#main'>Skip to content</a>
      <NavBar />
      <main id='main' class='main' tabindex='-1' ref={main}>{props.children}</main>
      <footer class='site-footer'>
        <nav aria-label='Footer'>
          <A href='/guide'>User guide</A>
          <A href='/guide#payment'>Payment model</A>
          <a href='/docs'>API reference</a>
        </nav>
        <p class='muted small'>RunSurge — Python on idle machines, sandboxed.</p>
      </footer>
    </>
  )
}

export function App (props: { session?: SessionStore }) {
  return (
    <SessionProvider {...(props.session !== undefined ? { store: props.session } : {})}>
      <Router root={Layout}>
        <Route path='/' component={Home} />
        <Route path='/login' component={Login} />
        <Route path='/register' component={Register} />
        <Route path='/submit' component={Submit} />
        <Route path='/jobs' component={Jobs} />
        <Route path='/jobs/:id' component={JobPage} />
        <Route path='/nodes' component={Nodes} />
        <Route path='/guide' component={Guide} />
        <Route path='*404' component={NotFound} />
      </Router>
    </SessionProvider>
  )
}
