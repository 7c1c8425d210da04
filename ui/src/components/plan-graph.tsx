import { For, Show, createMemo, createUniqueId } from 'solid-js'
import { PLAN_KIND_NAMES, buildPlanGraph } from '../lib/plan-graph.ts'
import { layoutPlan } from '../lib/plan-layout.ts'
import type { Job, Task } from '../api/types.ts'
import { PlanDrawing } from './plan-drawing.tsx'
import { PlanList } from './plan-list.tsx'

const BASIS: Record<string, string> = {
  blocks: 'blocks of main() and the stages they are fused into',
  plan: 'the planned tasks and their dependencies',
  tasks: 'the job\'s tasks and what each waits for',
  none: 'nothing yet'
}

/** The job's plan drawn as a graph (SVG), with the same content as a list for keyboard and screen readers. */
export function PlanGraph (props: { job: Job, tasks: Task[], caption?: string }) {
  const id = createUniqueId()
  const graph = createMemo(() => buildPlanGraph({ plan: props.job.plan, inputs: props.job.inputs, mode: props.job.mode, tasks: props.tasks }))
  const layout = createMemo(() => layoutPlan(graph()))
  const reasons = (): string[] => Array.isArray(props.job.plan.reasons) ? props.job.plan.reasons.filter((r): r is string => typeof r === 'string') : []
  const taskCount = (): number => typeof props.job.plan.tasks === 'number' ? props.job.plan.tasks : props.job.plan.tasks.length
  return (
    <figure class='plan' data-basis={graph().basis}>
      <figcaption class='plan__caption' id={`${id}-caption`}>
        {props.caption ?? `Level ${props.job.plan.level} plan, ${taskCount()} task${taskCount() === 1 ? '' : 's'}: ${BASIS[graph().basis] ?? ''}.`}
      </figcaption>
      <Show when={reasons().length > 0}>
        <details class='plan__reasons'>
          <summary>Why this plan</summary>
          <ul><For each={reasons()}>{(reason) => <li>{reason}</li>}</For></ul>
        </details>
      </Show>
      <Show when={layout().nodes.length > 0} fallback={<p class='muted'>No plan: {props.job.status === 'rejected' ? 'the job was rejected before it was planned.' : 'the job has no tasks yet.'}</p>}>
        <PlanDrawing layout={layout()} name={props.job.name} captionId={`${id}-caption`} />
        <ul class='plan__legend' aria-label='Legend'>
          <For each={[...new Set(graph().nodes.map(node => node.kind))]}>
            {(kind) => <li><span class={`plan__swatch plan__swatch--${kind}`} aria-hidden='true' />{PLAN_KIND_NAMES[kind]}</li>}
          </For>
          <Show when={graph().clusters.length > 0}><li><span class='plan__swatch plan__swatch--cluster' aria-hidden='true' />fused stage</li></Show>
        </ul>
        <PlanList graph={graph()} />
      </Show>
    </figure>
  )
}
