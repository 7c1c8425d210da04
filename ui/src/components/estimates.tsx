import { Show, createMemo } from 'solid-js'
import type { Analysis } from '../api/types.ts'
import { formatBytes, formatDuration, formatNumber } from '../lib/format.ts'
import { blocksPreview } from '../lib/job-form.ts'
import type { JobKind } from '../lib/job-form.ts'
import { Money } from './money.tsx'
import { PlanGraph } from './plan-graph.tsx'

/** What an accepted script would take: its memory, its cost, and (automatic jobs) the blocks main() is cut into. */
export function Estimates (props: { analysis: Analysis, kind: JobKind, inputName: string | undefined }) {
  const preview = createMemo(() => blocksPreview(props.analysis, props.kind, props.inputName))
  return (
    <div class='estimates'>
      <Show when={props.analysis.memory}>
        {(memory) => (
          <section aria-labelledby='memory-estimate'>
            <h3 id='memory-estimate'>Memory</h3>
            <dl class='facts'>
              <Show when={memory().elements !== undefined}>
                <dt>Input</dt><dd>{formatNumber(memory().elements ?? 0)} elements ({memory().format})</dd>
                <dt>Data in memory</dt><dd>{formatBytes(memory().data.fixed + memory().data.perElement * (memory().elements ?? 0))}</dd>
              </Show>
              <dt>Peak</dt>
              <dd data-testid='memory-peak'>
                <Show when={memory().peakBytes !== undefined} fallback={<>{formatBytes(memory().peak.fixed)} + {formatBytes(memory().peak.perElement)} per element</>}>
                  {formatBytes(memory().peakBytes ?? 0)}
                </Show>
                {' '}<span class='muted'>({memory().basis} estimate, an upper bound)</span>
              </dd>
            </dl>
          </section>
        )}
      </Show>
      <Show when={props.analysis.estimate}>
        {(estimate) => (
          <section aria-labelledby='cost-estimate'>
            <h3 id='cost-estimate'>Cost</h3>
            <dl class='facts'>
              <dt>You would pay about</dt><dd data-testid='price-estimate'><Money micro={estimate().price} /></dd>
              <dt>Contributors earn</dt><dd><Money micro={estimate().contributors} /></dd>
              <dt>Platform share</dt><dd><Money micro={estimate().platform} /></dd>
              <dt>Assumed</dt><dd>{estimate().tasks} task{estimate().tasks === 1 ? '' : 's'} × {formatDuration(estimate().taskWallMs)} × {formatBytes(estimate().taskMemoryBytes)}</dd>
            </dl>
            <p class='muted small'>{estimate().basis}</p>
          </section>
        )}
      </Show>
      <Show when={preview()}>
        {(job) => (
          <section aria-labelledby='blocks-preview'>
            <h3 id='blocks-preview'>Blocks of main()</h3>
            <PlanGraph job={job()} tasks={[]} caption='How the analyzer cuts main() into blocks, and what each block waits for (a preview: the planner decides the tasks).' />
          </section>
        )}
      </Show>
    </div>
  )
}
