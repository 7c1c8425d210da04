/**
 * The plan graph's layout: layers by longest path from the inputs, rows ordered by their predecessors' rows,
 * cubic edges, and fused stages drawn around their members.
 */
import type { PlanCluster, PlanEdge, PlanGraph, PlanNode } from './plan-graph.ts'

export interface LayoutOptions {
  nodeWidth: number
  nodeHeight: number
  columnGap: number
  rowGap: number
  padding: number
}

export const DEFAULT_LAYOUT: LayoutOptions = { nodeWidth: 168, nodeHeight: 52, columnGap: 56, rowGap: 18, padding: 20 }

export interface PlacedNode extends PlanNode { x: number, y: number, width: number, height: number, layer: number, row: number }
export interface PlacedEdge extends PlanEdge { path: string }
export interface PlacedCluster extends PlanCluster { x: number, y: number, width: number, height: number }

export interface PlanLayout {
  nodes: PlacedNode[]
  edges: PlacedEdge[]
  clusters: PlacedCluster[]
  width: number
  height: number
}

/** Layer of each node: the longest path from a node without predecessors. Edges that close a cycle are ignored. */
export function layers (graph: Pick<PlanGraph, 'nodes' | 'edges'>): Map<string, number> {
  const ids = graph.nodes.map(node => node.id)
  const incoming = new Map(ids.map(id => [id, 0]))
  const out = new Map<string, string[]>(ids.map(id => [id, []]))
  for (const edge of graph.edges) {
    if (!incoming.has(edge.from) || !incoming.has(edge.to)) continue
    out.get(edge.from)?.push(edge.to)
    incoming.set(edge.to, (incoming.get(edge.to) ?? 0) + 1)
  }
  const layer = new Map<string, number>()
  const ready = ids.filter(id => incoming.get(id) === 0)
  for (const id of ready) layer.set(id, 0)
  const done = new Set<string>()
  while (done.size < ids.length) {
    // A cycle leaves nodes never ready: start the first of them after everything placed so far.
    if (ready.length === 0) {
      const stuck = ids.find(id => !done.has(id))
      if (stuck === undefined) break
      layer.set(stuck, Math.max(0, ...[...done].map(id => (layer.get(id) ?? 0) + 1)))
      ready.push(stuck)
    }
    const id = ready.shift() as string
    if (done.has(id)) continue
    done.add(id)
    for (const next of out.get(id) ?? []) {
      if (done.has(next)) continue
      layer.set(next, Math.max(layer.get(next) ?? 0, (layer.get(id) ?? 0) + 1))
      const left = (incoming.get(next) ?? 1) - 1
      incoming.set(next, left)
      if (left === 0) ready.push(next)
    }
  }
  return layer
}

export function layoutPlan (graph: PlanGraph, options: Partial<LayoutOptions> = {}): PlanLayout {
  const o = { ...DEFAULT_LAYOUT, ...options }
  if (graph.nodes.length === 0) return { nodes: [], edges: [], clusters: [], width: 0, height: 0 }
  const columns = orderedColumns(graph)
  const tallest = Math.max(...columns.map(column => column?.length ?? 0))
  const step = o.nodeHeight + o.rowGap
  const placed = placeNodes(columns, tallest, o)
  const edges = placeEdges(graph.edges, placed, o)
  const clusters = placeClusters(graph.clusters, placed)
  const nodes = [...placed.values()]
  // Clusters reach above the top row by their label: grow the canvas so nothing is cut.
  const top = Math.min(0, ...clusters.map(c => c.y - o.padding / 2))
  if (top < 0) {
    for (const node of nodes) node.y -= top
    for (const cluster of clusters) cluster.y -= top
    for (const edge of edges) edge.path = shiftPath(edge.path, -top)
  }
  return {
    nodes,
    edges,
    clusters,
    width: o.padding * 2 + columns.length * o.nodeWidth + (columns.length - 1) * o.columnGap,
    height: o.padding * 2 + tallest * step - o.rowGap - top
  }
}

/** The nodes of each layer, top to bottom. */
function orderedColumns (graph: PlanGraph): PlanNode[][] {
  const layerOf = layers(graph)
  const columns: PlanNode[][] = []
  for (const node of graph.nodes) {
    const l = layerOf.get(node.id) ?? 0
    ;(columns[l] ??= []).push(node)
  }
  const predecessors = new Map<string, string[]>()
  for (const edge of graph.edges) predecessors.set(edge.to, [...(predecessors.get(edge.to) ?? []), edge.from])
  const rowOf = new Map<string, number>()
  columns.forEach((column, l) => {
    // Barycenter of the predecessors' rows keeps chains straight and crossings few; ties keep the given order.
    const keyed = column.map((node, i) => {
      const rows = (predecessors.get(node.id) ?? []).map(p => rowOf.get(p)).filter((r): r is number => r !== undefined)
      return { node, i, key: l === 0 || rows.length === 0 ? i : rows.reduce((a, b) => a + b, 0) / rows.length }
    })
    keyed.sort((a, b) => a.key - b.key || a.i - b.i)
    columns[l] = keyed.map(k => k.node)
    columns[l].forEach((node, row) => rowOf.set(node.id, row))
  })
  return columns
}

/** Layers left to right; a column shorter than the tallest is centred. */
function placeNodes (columns: PlanNode[][], tallest: number, o: LayoutOptions): Map<string, PlacedNode> {
  const step = o.nodeHeight + o.rowGap
  const placed = new Map<string, PlacedNode>()
  columns.forEach((column, l) => {
    const offset = (tallest - column.length) * step / 2
    column.forEach((node, row) => {
      placed.set(node.id, {
        ...node,
        layer: l,
        row,
        x: o.padding + l * (o.nodeWidth + o.columnGap),
        y: o.padding + offset + row * step,
        width: o.nodeWidth,
        height: o.nodeHeight
      })
    })
  })
  return placed
}

/** Each edge as a cubic curve from the right side of its source to the left side of its target. */
function placeEdges (edges: PlanEdge[], placed: Map<string, PlacedNode>, o: LayoutOptions): PlacedEdge[] {
  const paths: PlacedEdge[] = []
  for (const edge of edges) {
    const a = placed.get(edge.from)
    const b = placed.get(edge.to)
    if (a === undefined || b === undefined) continue
    const x1 = a.x + a.width
    const y1 = a.y + a.height / 2
    const x2 = b.x
    const y2 = b.y + b.height / 2
    const bend = Math.max(o.columnGap / 2, (x2 - x1) / 2)
    paths.push({ ...edge, path: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}` })
  }
  return paths
}

/** Each cluster as a box around its placed members, with room above them for its label. */
function placeClusters (clusters: PlanCluster[], placed: Map<string, PlacedNode>): PlacedCluster[] {
  const boxes: PlacedCluster[] = []
  for (const cluster of clusters) {
    const members = cluster.members.map(id => placed.get(id)).filter((n): n is PlacedNode => n !== undefined)
    if (members.length === 0) continue
    const inset = 8
    const label = 18
    const x = Math.min(...members.map(n => n.x)) - inset
    const y = Math.min(...members.map(n => n.y)) - inset - label
    boxes.push({
      ...cluster,
      x,
      y,
      width: Math.max(...members.map(n => n.x + n.width)) + inset - x,
      height: Math.max(...members.map(n => n.y + n.height)) + inset - y
    })
  }
  return boxes
}

function shiftPath (path: string, dy: number): string {
  return path.replace(/(-?[\d.]+),(-?[\d.]+)/g, (_, x: string, y: string) => `${x},${Number(y) + dy}`)
}
