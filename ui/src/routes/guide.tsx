import { A } from '@solidjs/router'
import { For } from 'solid-js'
import { CopyButton } from '../components/copy-button.tsx'
import { PageTitle } from '../components/page-title.tsx'
import { DEFAULT_UNIT_RATE, workedExample } from '../lib/billing.ts'
import { AUTO_SAMPLE, GROUPED_SAMPLE, MANUAL_SAMPLE } from '../lib/guide-samples.ts'
import { formatMoney, formatNumber } from '../lib/format.ts'

const SECTIONS = [
  ['about', 'About RunSurge'],
  ['job-types', 'Job types'],
  ['template', 'The code template'],
  ['security', 'Security and isolation'],
  ['memory', 'Memory estimation'],
  ['communication', 'Communication layer'],
  ['monitoring', 'Monitoring'],
  ['payment', 'Payment model']
] as const

function Code (props: { code: string, name: string }) {
  return (
    <figure class='code'>
      <figcaption><code>{props.name}</code> <CopyButton text={props.code} label={`Copy ${props.name}`} /></figcaption>
      <pre tabindex='0'><code>{props.code}</code></pre>
    </figure>
  )
}

export default function Guide () {
  const example = workedExample()
  return (
    <>
      <PageTitle title='User guide' />
      <div class='guide'>
        <nav class='guide__toc' aria-label='Contents'>
          <h2>Contents</h2>
          <ol>
            <For each={SECTIONS}>{([id, title]) => <li><a href={`#${id}`}>{title}</a></li>}</For>
          </ol>
          <h2>Quick links</h2>
          <ul>
            <li><A href='/'>Home</A></li>
            <li><A href='/submit'>Submit a job</A></li>
            <li><a href='/docs'>API reference (OpenAPI)</a></li>
          </ul>
        </nav>
        <article class='guide__body'>
          <h1>User guide</h1>

          <section id='about' aria-labelledby='about-title'>
            <h2 id='about-title'>About RunSurge</h2>
            <p>
              RunSurge runs plain Python on other people's idle machines. <strong>Submitters</strong> upload a program and
              its data; <strong>contributors</strong> lend machines by running a node. A slim coordinator checks each
              program, plans how to split it, sends tasks to nodes and keeps the accounts; the data itself moves
              between nodes directly. Research labs run the same software as a private mesh on their own machines.
            </p>
            <p>
              From submission to result: the scanner and template checks read your file → the analyzer builds a
              dependency graph of <code>main</code> and estimates its memory → the planner decides how many tasks to
              run and where → nodes fetch their input chunks from each other and run their tasks in a sandbox →
              the result is assembled, you download it and pay for what was used.
            </p>
          </section>

          <section id='job-types' aria-labelledby='job-types-title'>
            <h2 id='job-types-title'>Job types</h2>
            <dl class='definitions'>
              <dt>Automatic</dt>
              <dd>
                One Python file defining <code>main(data)</code>. RunSurge splits it only where it can prove the result
                is the same as running <code>main(data)</code> once, and runs the rest sequentially. Results match a
                sequential run exactly (floats within 10<sup>-9</sup> relative).
              </dd>
              <dt>Manual</dt>
              <dd>
                You choose the number of tasks and the memory of each. <code>process(input_data)</code> is called once per
                chunk of the input (cut on line boundaries) and returns a dict; an optional <code>aggregate(results)</code>
                combines them, otherwise the result is the list of dicts.
              </dd>
              <dt>Grouped</dt>
              <dd>
                Several input files with one shared script (<code>process</code> once per file), then an aggregation
                script defining <code>aggregate(results)</code>, run once every task has succeeded.
              </dd>
            </dl>
          </section>

          <section id='template' aria-labelledby='template-title'>
            <h2 id='template-title'>The code template</h2>
            <div class='notice notice--info' role='note'>
              <strong>Keep module level simple.</strong> Only imports, function definitions and constants belong outside
              functions. How the input is loaded depends on its extension: <code>.json</code> → the parsed array,
              <code>.jsonl</code> → a list of parsed lines, <code>.csv</code> → a list of dicts (header row), anything else
              → a list of text lines. <code>main</code> returns a JSON-serializable value.
            </div>
            <Code name='word_stats.py' code={AUTO_SAMPLE} />
            <p>
              A manual job states how to cut the work. Give the memory each task needs: a task that exceeds it is stopped,
              and a realistic figure lets the scheduler place it.
            </p>
            <Code name='line_lengths.py' code={MANUAL_SAMPLE} />
            <Code name='sales_total.py' code={GROUPED_SAMPLE} />
            <p>
              Follow the template and you get exact results; stray from it (module-level work, reading files, the
              network, salted hashes that differ between machines) and the scanner refuses the job before it runs, with each finding
              shown against its line on the <A href='/submit'>submit page</A>. The repository's <code>examples/</code>
              folder holds ready-made jobs and inputs of each kind.
            </p>
          </section>

          <section id='security' aria-labelledby='security-title'>
            <h2 id='security-title'>Security and isolation</h2>
            <p>Contributors run code written by strangers, so every job passes three layers before and while it runs:</p>
            <ol>
              <li><strong>Scanning.</strong> ast-grep rules refuse shell commands, <code>eval</code>/<code>exec</code>, dynamic imports, file and network access, deserialization of untrusted data and modules outside an allow-list.</li>
              <li><strong>Sandboxing.</strong> Each task runs in bubblewrap: a read-only minimal system, no home directory, no network at all, every namespace unshared, a clean environment, no capabilities and a seccomp filter; a size-limited scratch directory is its only writable place. Nodes may instead run tasks in a virtual machine over SSH.</li>
              <li><strong>Limits and monitoring.</strong> Memory, CPU time, processes and file sizes are capped; a task is killed at its memory limit or wall-clock timeout, with its whole process tree.</li>
            </ol>
            <p>A node accepts work only from its coordinator, never more than the memory it offers, and the transport between peers is encrypted.</p>
          </section>

          <section id='memory' aria-labelledby='memory-title'>
            <h2 id='memory-title'>Memory estimation</h2>
            <p>
              The analyzer estimates the memory of every statement of <code>main</code> as a function of the input's size:
              <em> fixed + per element × n</em>. A static estimate comes from CPython's object sizes and a sample of your
              input, with margins so it stays an upper bound; a calibration (<code>runsurge analyze JOB.py --input FILE</code>)
              runs the job on growing prefixes of the input and measures the real figures. The planner keeps each task under the memory of the node that runs it, splitting the data
              into more chunks when a whole run would not fit. The submit page shows the estimate before you submit, the
              job page the measured peak of each task.
            </p>
          </section>

          <section id='communication' aria-labelledby='communication-title'>
            <h2 id='communication-title'>Communication layer</h2>
            <p>
              Nodes form a libp2p mesh: TCP with Noise encryption and yamux multiplexing, and a Kademlia DHT. Inputs and
              intermediate results are content-addressed chunks: a node that needs one finds who provides it in the DHT
              and pulls it over an encrypted stream, so data goes node to node, never through the coordinator. The
              coordinator pushes task assignments and "inputs ready" events; nothing polls a shared folder. Private
              meshes add a pre-shared swarm key, so only machines holding it can connect.
            </p>
          </section>

          <section id='monitoring' aria-labelledby='monitoring-title'>
            <h2 id='monitoring-title'>Monitoring</h2>
            <ul>
              <li>Nodes heartbeat every 5 seconds with their load and free memory; a node silent for 20 seconds is declared dead and its running tasks are queued again elsewhere.</li>
              <li>A failed task is retried on another node, up to three times; a completed task is billed once, whatever happened before.</li>
              <li>Every task reports its wall time, CPU time, and peak and average memory. The <A href='/jobs'>jobs page</A> follows each job live, and a job's page draws its plan and a timeline of its tasks across nodes.</li>
            </ul>
          </section>

          <section id='payment' aria-labelledby='payment-title'>
            <h2 id='payment-title'>Payment model</h2>
            <p>
              A contributor earns for each task their node completed:{' '}
              <strong>unit rate × seconds × machine factor × average memory in GB</strong>. The machine factor is
              measured by each node's benchmark (1.0 is the reference machine; a faster machine earns more per second).
              The submitter pays <strong>1.2 ×</strong> the contributors' sum; the platform keeps the difference.
              Amounts are kept in micro-units of the currency, and stay <em>pending</em> until the submitter pays the completed job.
            </p>
            <h3>A worked example</h3>
            <p>A manual job of three tasks at the default unit rate of {formatNumber(DEFAULT_UNIT_RATE)} micro-units per second per GB:</p>
            <div class='table-scroll' role='region' aria-label='Worked example' tabindex='0'>
              <table class='table'>
                <thead><tr><th scope='col'>Task</th><th scope='col'>Node</th><th scope='col' class='num'>Seconds</th><th scope='col' class='num'>Factor</th><th scope='col' class='num'>Avg. memory</th><th scope='col' class='num'>Earning</th></tr></thead>
                <tbody>
                  <For each={example.tasks}>
                    {(task, i) => (
                      <tr>
                        <th scope='row'>{i() + 1}</th><td>{task.node}</td><td class='num'>{task.seconds}</td><td class='num'>{task.factor}</td>
                        <td class='num'>{task.memoryGb} GB</td>
                        <td class='num'>{formatNumber(DEFAULT_UNIT_RATE)} × {task.seconds} × {task.factor} × {task.memoryGb} = {formatNumber(task.earning)} µ</td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>
            <p>
              Contributors earn {formatNumber(example.contributors)} micro-units ({formatMoney(example.contributors)}); the
              submitter pays 1.2 × that, {formatNumber(example.price)} ({formatMoney(example.price)}); the platform keeps
              {' '}{formatNumber(example.platform)} ({formatMoney(example.platform)}).
            </p>
          </section>
        </article>
      </div>
    </>
  )
}
