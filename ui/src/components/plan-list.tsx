import { For } from 'solid-js'
import { PLAN_KIND_NAMES } from '../lib/plan-graph.ts'
import type { PlanGraph } from '../lib/plan-graph.ts'

/** The plan graph's content as a list, for keyboards and screen readers: each step, its kind, and what it waits for. */
export function PlanList (props: { graph: PlanGraph }) {
  const labelOf = (nodeId: string): string => props.graph.nodes.find(node => node.id === nodeId)?.label ?? nodeId
  return (
    <details class='plan__list'>
      <summary>The plan as a list</summary>
      <ol>
        <For each={props.graph.nodes}>
          {(node) => {
            const after = props.graph.edges.filter(edge => edge.to === node.id).map(edge => labelOf(edge.from))
            return (
              <li>
                <strong>{node.label}</strong> ({PLAN_KIND_NAMES[node.kind]}{node.status !== undefined ? `, ${node.status.replaceAll('_', ' ')}` : ''})
                {node.detail !== undefined ? ` — ${node.detail}` : ''}
                {after.length > 0 ? `; after ${after.join(', ')}` : ''}
              </li>
            )
          }}
        </For>
      </ol>
    </details>
  )
}
