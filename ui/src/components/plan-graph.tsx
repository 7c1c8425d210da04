import { For, Show, createMemo, createUniqueId } from 'solid-js'
import { buildPlanGraph, layoutPlan } from '../lib/plan-graph.ts'
import type { Job, Task } from '../api/types.ts'
import type { PlanNodeKind } from '../lib/plan-graph.ts'

const KIND_NAMES: Record<PlanNodeKind, string> = {
  input: 'input',
  block: 'block',
  task: 'task',
  group: 'parallel tasks',
  reduce: 'reduction',
  aggregate: 'aggregation',
  result: 'result'
}

const BASIS: Record<string, string> = {
  blocks: 'blocks of main() and the stages they are fused into',
  plan: 'the planned tasks and their dependencies',
  tasks: 'the job\'s tasks and what each waits for',
  none: 'nothing yet'
}

/** Labels are cut to fit a node; the full text stays in the node's tooltip and in the list below. */
function fit (text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** The job's plan drawn as a graph (SVG), with the same content as a list for keyboard and screen readers. */
export function PlanGraph (props: { job: Job, tasks: Task[], caption?: string }) {
  const id = createUniqueId()
  const graph = createMemo(() => buildPlanGraph({ plan: props.job.plan, inputs: props.job.inputs, mode: props.job.mode, tasks: props.tasks }))
  const layout = createMemo(() => layoutPlan(graph()))
  const labelOf = (nodeId: string): string => graph().nodes.find(node => node.id === nodeId)?.label ?? nodeId
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
        <div class='plan__scroll' role='region' aria-label='Plan graph' tabindex='0'>
          <svg
            class='plan__svg'
            viewBox={`0 0 ${layout().width} ${layout().height}`}
            // Small graphs shrink to fit the page; wide ones keep a readable size and scroll.
            style={{ width: '100%', 'max-width': `${layout().width}px`, 'min-width': `${Math.min(layout().width, 640)}px` }}
            preserveAspectRatio='xMinYMin meet'
            role='img'
            aria-labelledby={`${id}-title ${id}-caption`}
          >
            <title id={`${id}-title`}>Plan graph of {props.job.name}</title>
            <defs>
              <marker id={`${id}-arrow`} viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' markerHeight='7' orient='auto-start-reverse'>
                <path d='M0,0 L10,5 L0,10 z' class='plan__arrow' />
              </marker>
            </defs>
            <For each={layout().clusters}>
              {(cluster) => (
                <g class='plan__cluster' data-cluster={cluster.id}>
                  <rect x={cluster.x} y={cluster.y} width={cluster.width} height={cluster.height} rx='10' />
                  <text x={cluster.x + 10} y={cluster.y + 14}>{fit(cluster.label, Math.floor(cluster.width / 7))}</text>
                </g>
              )}
            </For>
            <For each={layout().edges}>
              {(edge) => <path class='plan__edge' d={edge.path} marker-end={`url(#${id}-arrow)`} />}
            </For>
            <For each={layout().nodes}>
              {(node) => (
                <g
                  class={`plan__node plan__node--${node.kind}`}
                  classList={{ [`plan__node--${node.status ?? ''}`]: node.status !== undefined }}
                  data-node={node.id}
                  data-kind={node.kind}
                  data-status={node.status}
                  transform={`translate(${node.x},${node.y})`}
                >
                  <title>{[node.label, KIND_NAMES[node.kind], node.detail, node.status].filter(Boolean).join(' · ')}</title>
                  <rect width={node.width} height={node.height} rx={node.kind === 'input' || node.kind === 'result' ? 26 : 8} />
                  <text class='plan__label' x='12' y={node.detail !== undefined || node.status !== undefined ? 21 : 31}>{fit(node.label, 21)}</text>
                  <Show when={node.detail !== undefined || node.status !== undefined}>
                    <text class='plan__detail' x='12' y='39'>{fit([node.status?.replaceAll('_', ' '), node.detail].filter(Boolean).join(' · '), 25)}</text>
                  </Show>
                </g>
              )}
            </For>
          </svg>
        </div>
        <ul class='plan__legend' aria-label='Legend'>
          <For each={[...new Set(graph().nodes.map(node => node.kind))]}>
            {(kind) => <li><span class={`plan__swatch plan__swatch--${kind}`} aria-hidden='true' />{KIND_NAMES[kind]}</li>}
          </For>
          <Show when={graph().clusters.length > 0}><li><span class='plan__swatch plan__swatch--cluster' aria-hidden='true' />fused stage</li></Show>
        </ul>
        <details class='plan__list'>
          <summary>The plan as a list</summary>
          <ol>
            <For each={graph().nodes}>
              {(node) => {
                const after = graph().edges.filter(edge => edge.to === node.id).map(edge => labelOf(edge.from))
                return (
                  <li>
                    <strong>{node.label}</strong> ({KIND_NAMES[node.kind]}{node.status !== undefined ? `, ${node.status.replaceAll('_', ' ')}` : ''})
                    {node.detail !== undefined ? ` — ${node.detail}` : ''}
                    {after.length > 0 ? `; after ${after.join(', ')}` : ''}
                  </li>
                )
              }}
            </For>
          </ol>
        </details>
      </Show>
    </figure>
  )
}
