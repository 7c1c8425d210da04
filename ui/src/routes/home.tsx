import { A } from '@solidjs/router'
import { Show, createResource, onCleanup } from 'solid-js'
import { stats } from '../api/billing.ts'
import { Money } from '../components/money.tsx'
import { PageTitle } from '../components/page-title.tsx'
import { StatCard } from '../components/stat-card.tsx'
import { formatNumber } from '../lib/format.ts'
import { useSession } from '../stores/session.tsx'

/** How often the landing page refreshes its figures (ms). */
const STATS_REFRESH_MS = 5_000

export default function Home () {
  const session = useSession()
  const [figures, { refetch }] = createResource(stats)
  const timer = setInterval(() => { Promise.resolve(refetch()).catch(() => {}) }, STATS_REFRESH_MS)
  onCleanup(() => { clearInterval(timer) })
  // Keep the last figures on screen while a refresh is in flight: only the first load shows placeholders.
  const loading = (): boolean => figures.latest === undefined && figures.error === undefined
  return (
    <>
      <PageTitle title='' />
      <section class='hero'>
        <div class='hero__text'>
          <h1>Run plain Python on idle machines</h1>
          <p class='lead'>
            RunSurge splits your Python program across a mesh of contributors' computers, runs every piece in a
            sandbox, and hands you back exactly the result a single run would give. Contributors earn for the
            seconds and memory their machines lend.
          </p>
          <Show
            when={session.account()}
            fallback={
              <div class='actions'>
                <A href='/register' class='button button--large'>Create an account</A>
                <A href='/login' class='button button--large button--quiet'>Sign in</A>
                <A href='/guide'>Read the guide</A>
              </div>
            }
          >
            {(account) => (
              <>
                <p class='welcome'>Welcome back, <strong>{account().name}</strong>.</p>
                <div class='actions'>
                  <A href='/submit' class='button button--large'>Submit a job</A>
                  <A href='/jobs' class='button button--large button--quiet'>Your jobs</A>
                  <A href='/nodes'>Your nodes and earnings</A>
                </div>
              </>
            )}
          </Show>
        </div>
      </section>

      <section aria-labelledby='stats-title' class='section'>
        <h2 id='stats-title'>The mesh right now</h2>
        <Show when={figures.error !== undefined}>
          <p class='notice notice--error' role='alert'>The figures cannot be loaded: {String((figures.error as Error | undefined)?.message ?? figures.error)}</p>
        </Show>
        <dl class='stats' aria-live='polite'>
          <StatCard label='Active nodes' loading={loading()} value={formatNumber(figures.latest?.activeNodes ?? 0)} />
          <StatCard label='Running jobs' loading={loading()} value={formatNumber(figures.latest?.runningJobs ?? 0)} />
          <StatCard label='Completed jobs' loading={loading()} value={formatNumber(figures.latest?.completedJobs ?? 0)} />
          <StatCard label='Lifetime earnings' loading={loading()} value={<Money micro={figures.latest?.lifetimeEarnings ?? 0} />} hint='paid to contributors' />
        </dl>
      </section>

      <section aria-labelledby='how-title' class='section'>
        <h2 id='how-title'>How it works</h2>
        <ol class='steps'>
          <li>
            <h3>Write ordinary Python</h3>
            <p>A file with <code>main(data)</code>. No framework, no decorators: the analyzer finds what can run in parallel by itself.</p>
          </li>
          <li>
            <h3>Submit it with your data</h3>
            <p>The scanner checks it, the planner splits it by data and by memory, and nodes pull their chunks from each other.</p>
          </li>
          <li>
            <h3>Get the exact result</h3>
            <p>Watch the tasks run live, download the result, and pay for the seconds and memory used — nothing more.</p>
          </li>
        </ol>
      </section>

      <section aria-labelledby='contribute-title' class='section card'>
        <h2 id='contribute-title'>Lend an idle machine</h2>
        <p>
          Start a node with an enrollment token from <A href='/nodes'>your nodes page</A>; it measures the machine,
          joins the mesh and runs tasks in a bubblewrap sandbox: no network, no access to your files.
        </p>
      </section>
    </>
  )
}
