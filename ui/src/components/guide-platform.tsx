import { A } from '@solidjs/router'
import { GuideSection } from './guide-section.tsx'

/** How jobs run: isolation, memory estimation, the mesh, and monitoring. */
export function GuidePlatform () {
  return (
    <>
      <GuideSection id='security'>
        <p>Contributors run code written by strangers, so every job passes three layers before and while it runs:</p>
        <ol>
          <li><strong>Scanning.</strong> ast-grep rules refuse shell commands, <code>eval</code>/<code>exec</code>, dynamic imports, file and network access, deserialization of untrusted data and modules outside an allow-list.</li>
          <li><strong>Sandboxing.</strong> Each task runs in bubblewrap: a read-only minimal system, no home directory, no network at all, every namespace unshared, a clean environment, no capabilities and a seccomp filter; a size-limited scratch directory is its only writable place. Nodes may instead run tasks in a virtual machine over SSH.</li>
          <li><strong>Limits and monitoring.</strong> Memory, CPU time, processes and file sizes are capped; a task is killed at its memory limit or wall-clock timeout, with its whole process tree.</li>
        </ol>
        <p>A node accepts work only from its coordinator, never more than the memory it offers, and the transport between peers is encrypted.</p>
      </GuideSection>

      <GuideSection id='memory'>
        <p>
          The analyzer estimates the memory of every statement of <code>main</code> as a function of the input's size:
          <em> fixed + per element × n</em>. A static estimate comes from CPython's object sizes and a sample of your
          input, with margins so it stays an upper bound; a calibration (<code>runsurge analyze JOB.py --input FILE</code>)
          runs the job on growing prefixes of the input and measures the real figures. The planner keeps each task under the memory of the node that runs it, splitting the data
          into more chunks when a whole run would not fit. The submit page shows the estimate before you submit, the
          job page the measured peak of each task.
        </p>
      </GuideSection>

      <GuideSection id='communication'>
        <p>
          Nodes form a libp2p mesh: TCP with Noise encryption and yamux multiplexing, and a Kademlia DHT. Inputs and
          intermediate results are content-addressed chunks: a node that needs one finds who provides it in the DHT
          and pulls it over an encrypted stream, so data goes node to node, never through the coordinator. The
          coordinator pushes task assignments and "inputs ready" events; nothing polls a shared folder. Private
          meshes add a pre-shared swarm key, so only machines holding it can connect.
        </p>
      </GuideSection>

      <GuideSection id='monitoring'>
        <ul>
          <li>Nodes heartbeat every 5 seconds with their load and free memory; a node silent for 20 seconds is declared dead and its running tasks are queued again elsewhere.</li>
          <li>A failed task is retried on another node, up to three times; a completed task is billed once, whatever happened before.</li>
          <li>Every task reports its wall time, CPU time, and peak and average memory. The <A href='/jobs'>jobs page</A> follows each job live, and a job's page draws its plan and a timeline of its tasks across nodes.</li>
        </ul>
      </GuideSection>
    </>
  )
}
