/**
 * A level-3 plan: how many chunks, what the chunk tasks, stage tasks and aggregator run and need, and the reasons
 * `runsurge analyze` prints for it.
 */
import { evaluate } from '../../analyzer/src/index.ts'
import { chunkScript, finalScript, roundChunkScript, stageScript } from './codegen.ts'
import { CHUNK_SKEW, chunkBytes, DECODED_BYTES_PER_PARTIAL_BYTE, finalBytes, largestStatement, PYTHON_OVERHEAD_BYTES } from './cost.ts'
import { formatBytes } from '../../protocols/src/units.ts'
import { MAX_CHUNKS, PlanError } from './plan-types.ts'
import type { ReductionSite, SiteOp } from '../../analyzer/src/index.ts'
import type { PartialKind, Split } from './fusion.ts'
import type { Hoist, HoistedSite } from './hoist.ts'
import type { AutoPlan, PlanInput, SiteView, TaskSizing } from './plan-types.ts'

/** Elements of a chunk when the input is cut in `k` (the largest chunk, with the skew of line-based cuts). */
function chunkSizer (n: number): (k: number) => number {
  return k => Math.min(n, Math.ceil((n / k) * CHUNK_SKEW))
}

/** The number of chunks for a split: each fits the largest node, at least `minChunks`; else why none fits. */
function chunkCount (report: PlanInput['report'], split: Split, n: number, largest: number, minChunks: number): number | PlanError {
  const chunkSize = chunkSizer(n)
  const most = Math.min(MAX_CHUNKS, Math.max(1, n))
  let memoryChunks: number | undefined
  for (let k = 1; k <= most; k++) {
    if (chunkBytes(report, split, chunkSize(k)) <= largest) {
      memoryChunks = k
      break
    }
  }
  if (memoryChunks === undefined) {
    const worst = largestStatement(report, split.nodes.slice(0, split.fused).map(x => x.id), chunkSize(most))
    const bytes = chunkBytes(report, split, chunkSize(most))
    const line = worst?.line ?? split.nodes[0]?.line ?? 1
    return new PlanError(
      `line ${line}${worst !== undefined ? ` (\`${worst.text}\`)` : ''} needs about ${formatBytes(bytes)} per chunk even at ${most} chunks ` +
      `of ${chunkSize(most).toLocaleString('en-US')} elements, but the largest node offers ${formatBytes(largest)}`,
      { line, bytes, available: largest }
    )
  }
  // The report's rule of thumb as a floor: each fused stage's memory over the whole input, per node.
  const usable = Math.max(1, largest - PYTHON_OVERHEAD_BYTES)
  const stageChunks = Math.max(1, ...split.blocks.map(b => Math.ceil(evaluate(b.memory.total, n) / usable)))
  return Math.max(1, Math.min(MAX_CHUNKS, Math.max(1, n), Math.max(memoryChunks, minChunks, Number.isFinite(largest) ? stageChunks : 1)))
}

/** The aggregator's memory and, for keyed partials, its sizing at run time; or why it cannot fit. */
function aggregatorOf (report: PlanInput['report'], split: Split, n: number, largest: number): { final: ReturnType<typeof finalBytes>, sizing?: TaskSizing } | PlanError {
  const final = finalBytes(report, split, n)
  // Keyed partials (sets, Counters, groups) are estimated as if every key were distinct, which samples cannot rule
  // out: when that is what does not fit, the aggregator is sized from the partials the chunks actually send.
  const sizing = final.keyed > 0 ? { fixedBytes: final.bytes - final.keyed, keyedBytes: final.keyed, ...(final.perByte !== undefined ? { perByte: final.perByte } : {}) } : undefined
  if (final.bytes > largest && (sizing === undefined || sizing.fixedBytes > largest)) {
    const line = final.statement?.line ?? split.nodes[split.fused]?.line ?? split.nodes.at(-1)?.line ?? 1
    const what = final.statement !== undefined ? `line ${line} (\`${final.statement.text}\`)` : `combining the chunks' results (line ${line})`
    return new PlanError(
      `${what} needs about ${formatBytes(final.bytes)} at ${n.toLocaleString('en-US')} elements in the aggregator, ` +
      `which holds the combined results of the split part, but the largest node offers ${formatBytes(largest)}`,
      { line, bytes: final.bytes, available: largest }
    )
  }
  return { final, ...(sizing !== undefined ? { sizing } : {}) }
}

/** A level-3 plan with at least `minChunks` chunks, or the PlanError saying which part cannot fit. */
export function splitPlan (input: PlanInput, split: Split, n: number, largest: number, minChunks: number, reasons: string[], why: string[], forced: boolean): AutoPlan | PlanError {
  const { report } = input
  const chunks = chunkCount(report, split, n, largest, minChunks)
  if (chunks instanceof PlanError) return chunks
  const aggregator = aggregatorOf(report, split, n, largest)
  if (aggregator instanceof PlanError) return aggregator
  const { final, sizing } = aggregator
  const chunkSize = chunkSizer(n)
  const perChunk = chunkBytes(report, split, chunkSize(chunks))
  const first = split.nodes[0]?.line ?? 0
  const lastFused = split.nodes[split.fused - 1]?.endLine ?? first
  const rest = split.nodes[split.fused]
  const { hoist } = split
  const sites = hoist.sites.map(({ site, round, k }): SiteView => ({
    line: site.line,
    text: site.text.length > 80 ? `${site.text.slice(0, 77)}...` : site.text,
    op: site.op,
    over: site.over,
    round,
    sends: sends(site),
    reads: [...site.reads.filter(r => hoist.perRound[round - 1]?.broadcast.includes(r) === true), ...helperValuesBefore(hoist, { site, k, round })]
  }))
  // A helper's later pass needs the helper's values computed from the passes before it.
  const passNeeds = (r: number): string[] => hoist.sites.filter(x => x.round === r && (x.site.inline?.level ?? 1) > 1)
    .map(x => `${helperValuesBefore(hoist, x).join(', ')} (computed by \`${x.site.text.replace(/ \(pass \d+\)$/, '')}\`)`)
  return {
    level: 3,
    reasons: [
      ...reasons,
      ...why,
      split.fused > 0
        ? `lines ${first}-${lastFused} run on each chunk: ${split.blocks.map(b => `line ${b.startLine} ${b.class} over ${b.source ?? '?'}`).join('; ')}`
        : `${split.layout.param} is read only through reductions, computed on each chunk`,
      ...(hoist.kept.size > 0 ? [`${[...hoist.kept].join(', ')} stay${hoist.kept.size === 1 ? 's' : ''} on the chunks: ${sites.length} reduction${sites.length === 1 ? '' : 's'} of the rest of main run there (${sites.map(x => `line ${x.line} ${x.op}(${x.over}) in round ${x.round}`).join(', ')})`] : []),
      ...hoist.reasons,
      ...hoist.maps.map(m => `line ${m.map.line}: ${m.map.target} is built on each chunk from ${m.map.over}${m.round > 1 ? ` in round ${m.round}` : ''}, never sent`),
      ...hoist.perRound.slice(1).map((stage, i) => `round ${i + 2} needs ${[...stage.broadcast, ...stage.siteValues.map(k => {
        const site = hoist.sites.find(x => x.k === k)?.site
        return site?.op === 'lengths' ? `the number of elements of each chunk (line ${site.line} numbers them)` : `the value of \`${site?.text ?? '?'}\``
      }), ...passNeeds(i + 2)].join(', ')}: a stage task computes ${stage.statements.length > 0 ? `them (lines ${stage.statements.map(st => split.nodes[st]?.line ?? 0).join(', ')})` : 'them'} from the rounds before and broadcasts them; its chunk tasks run where round 1's ran`),
      ...(split.outputs.length > 0 ? [`the aggregator combines in chunk order: ${split.outputs.map(o => `${o.variable === '_runsurge_result' ? 'the return value' : o.variable} (${describe(o.partial)})`).join(', ')}`] : []),
      ...(rest !== undefined ? [`line ${rest.line} onwards runs once in the aggregator${split.stop !== undefined ? `: ${split.stop}` : ''}`] : []),
      forced
        ? `${chunks} chunks: a chunk of ~${chunkSize(chunks).toLocaleString('en-US')} elements needs ~${formatBytes(perChunk)}, within ${formatBytes(largest)}`
        : `${chunks} chunks of ~${chunkSize(chunks).toLocaleString('en-US')} elements (~${formatBytes(perChunk)} each)`,
      sizing === undefined || final.bytes <= largest
        ? `the aggregator needs ~${formatBytes(final.bytes)}${sizing !== undefined ? ' at most (sized again from the bytes the chunks send)' : ''}`
        : `the aggregator needs ~${formatBytes(sizing.fixedBytes)} and what the keyed partials hold: up to ~${formatBytes(final.bytes)} if every key is distinct, so it is sized from the bytes the chunks send (${sizing.perByte ?? DECODED_BYTES_PER_PARTIAL_BYTE} per byte${sizing.perByte !== undefined ? `, as line ${final.statement?.line ?? 0} holds values made from them` : ''}), once they have`
    ],
    chunks,
    chunkTask: { script: chunkScript(split, sizing !== undefined), memoryBytes: perChunk },
    finalTask: { script: finalScript(split), entry: 'aggregate', memoryBytes: final.bytes, ...(sizing !== undefined ? { sizing } : {}) },
    ...(hoist.rounds > 1
      ? { rounds: hoist.perRound.slice(1).map((_, i) => ({ stage: { script: stageScript(split, i + 2), memoryBytes: final.bytes, ...(sizing !== undefined ? { sizing } : {}) }, chunk: { script: roundChunkScript(split, i + 2, sizing !== undefined), memoryBytes: perChunk } })) }
      : {}),
    sites,
    fused: split.blocks.map(b => ({ block: b.id, lines: [b.startLine, b.endLine] })),
    estimate: { peakBytes: Math.max(perChunk, final.bytes), perChunkBytes: perChunk }
  }
}

/** What a chunk sends for a hoisted reduction. */
function sends (site: ReductionSite): string {
  const level = site.inline?.level
  if (level === undefined) return SITE_SENDS[site.op]
  return level === 1
    ? 'the partials of the helper\'s reductions that read none of its values (the aggregator runs the helper\'s code on all its reductions\' combined values)'
    : `the partials of the helper's reductions of pass ${level}, which read values the helper computes from the passes before (broadcast by the stage task)`
}

/** The values of a helper that a later pass of its reductions (hoisted site k) reads; none for other sites. */
function helperValuesBefore (hoist: Hoist, { site, k }: HoistedSite): string[] {
  const level = site.inline?.level ?? 1
  if (level === 1) return []
  const first = hoist.sites.find(x => x.k === k - (level - 1))
  return (first?.site.inline?.statements ?? []).filter(st => st.level < level).map(st => st.name)
}

/** What a chunk sends for a hoisted reduction, by its op. */
const SITE_SENDS: Record<SiteOp, string> = {
  sum: 'its sum (added in chunk order)',
  len: 'its length (added)',
  min: 'its first smallest element',
  max: 'its first largest element',
  any: 'its any (the first deciding chunk wins)',
  all: 'its all (the first deciding chunk wins)',
  first: 'its first element (the first non-empty chunk\'s wins)',
  last: 'its last element (the last non-empty chunk\'s wins)',
  truth: 'whether it is empty',
  nlargest: 'its k largest with their keys (merged, ties in chunk order)',
  nsmallest: 'its k smallest with their keys (merged, ties in chunk order)',
  inline: 'the partials of the reductions in the helper\'s return expression (the aggregator evaluates it on their combined values)',
  sortedtail: 'the last k of its own stable sort, with their keys, in input order (sorted again and cut to the last k)',
  head: 'its first k elements (concatenated, cut to k)',
  tail: 'its last k elements (concatenated, cut to the last k)',
  union: 'its distinct elements in arrival order (added in chunk order)',
  count: 'how many elements equal the value (added)',
  counts: 'the helper\'s counts per key over its elements (added by key, first-occurrence order)',
  groups: 'the helper\'s lists per key over its elements (merged by key, first-occurrence order)',
  best: 'the helper\'s best element (the aggregator calls the helper again on the chunks\' bests, in order)',
  loop: 'the loop\'s accumulator over its elements (combined as the loop would have built it)',
  lengths: 'its number of elements (a later round\'s chunk adds up those of the chunks before it: where its elements stand)',
  fsum: 'floats adding up exactly to its sum (math.fsum of all of them is the sequential one), or which infinities and nans it holds',
  fmean: 'floats adding up exactly to its sum and its count (fsum of all of them over the count)',
  mean: 'its count, its types and the exact sum of its values (statistics.mean finishes on their totals)',
  pvariance: 'its count, its types and the exact sums of x and x*x (statistics.pvariance finishes on their totals)',
  pstdev: 'its count, its types and the exact sums of x and x*x (statistics.pstdev finishes on their totals)',
  variance: 'its count, its types and the exact sums of x and x*x (statistics.variance finishes on their totals)',
  stdev: 'its count, its types and the exact sums of x and x*x (statistics.stdev finishes on their totals)'
}

function describe (partial: PartialKind): string {
  switch (partial.kind) {
    case 'concat': return 'concatenated'
    case 'merge': return 'dicts merged, later chunks winning'
    case 'add': return `${partial.init} + sum of partials`
    case 'pick': return `${partial.op} of the chunks' first best elements`
    case 'decide': return `${partial.op} over chunks, first decisive chunk wins`
    case 'fold': return `${partial.init} ${partial.op} partials`
    case 'replay': return `${partial.op} from ${partial.init} over the chunks' candidates`
    case 'group': return 'lists per key, merged by key in first-occurrence order'
    case 'count': return 'counts per key (or per position) added up, keys in first-occurrence order'
    case 'union': return 'distinct elements in arrival order, added up in chunk order'
    case 'last': return `the last chunk's last value, else ${partial.init}`
    case 'kbest': return `the running best per key by ${partial.step.state}, each key's chunk candidates replayed, keys in first-occurrence order`
    case 'best': if (partial.step.operator === 'first') return `the first element for which ${partial.step.element} holds, from the first chunk that met one`
      return `the running best by ${partial.step.state}, replayed from ${partial.starts.join(', ')} over the chunks' best candidates`
  }
}
