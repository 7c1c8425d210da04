import { A } from '@solidjs/router'
import { Show } from 'solid-js'
import { MeshStats } from '../components/mesh-stats.tsx'
import { PageTitle } from '../components/page-title.tsx'
import { useSession } from '../stores/session.tsx'

export default function Home () {
  const session = useSession()
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

      <MeshStats />

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
