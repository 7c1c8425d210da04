import { For, Show, createUniqueId } from 'solid-js'
import { PLAN_KIND_NAMES } from '../lib/plan-graph.ts'
import type { PlanLayout } from '../lib/plan-layout.ts'

/** Labels are cut to fit a node; the full text stays in the node's tooltip and in the list below. */
function fit (text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** A laid-out plan as SVG: fused stages behind, edges with arrows, then the nodes with their status. */
export function PlanDrawing (props: { layout: PlanLayout, name: string, captionId: string }) {
  const id = createUniqueId()
  return (
    <div class='plan__scroll' role='region' aria-label='Plan graph' tabindex='0'>
      <svg
        class='plan__svg'
        viewBox={`0 0 ${props.layout.width} ${props.layout.height}`}
        // Small graphs shrink to fit the page; wide ones keep a readable size and scroll.
        style={{ width: '100%', 'max-width': `${props.layout.width}px`, 'min-width': `${Math.min(props.layout.width, 640)}px` }}
        preserveAspectRatio='xMinYMin meet'
        role='img'
        aria-labelledby={`${id}-title ${props.captionId}`}
      >
        <title id={`${id}-title`}>Plan graph of {props.name}</title>
        <defs>
          <marker id={`${id}-arrow`} viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' markerHeight='7' orient='auto-start-reverse'>
            <path d='M0,0 L10,5 L0,10 z' class='plan__arrow' />
          </marker>
        </defs>
        <For each={props.layout.clusters}>
          {(cluster) => (
            <g class='plan__cluster' data-cluster={cluster.id}>
              <rect x={cluster.x} y={cluster.y} width={cluster.width} height={cluster.height} rx='10' />
              <text x={cluster.x + 10} y={cluster.y + 14}>{fit(cluster.label, Math.floor(cluster.width / 7))}</text>
            </g>
          )}
        </For>
        <For each={props.layout.edges}>
          {(edge) => <path class='plan__edge' d={edge.path} marker-end={`url(#${id}-arrow)`} />}
        </For>
        <For each={props.layout.nodes}>
          {(node) => (
            <g
              class={`plan__node plan__node--${node.kind}`}
              classList={{ [`plan__node--${node.status ?? ''}`]: node.status !== undefined }}
              data-node={node.id}
              data-kind={node.kind}
              data-status={node.status}
              transform={`translate(${node.x},${node.y})`}
            >
              <title>{[node.label, PLAN_KIND_NAMES[node.kind], node.detail, node.status].filter(Boolean).join(' · ')}</title>
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
  )
}
