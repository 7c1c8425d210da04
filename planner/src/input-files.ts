/**
 * An automatic job's uploaded input as the planner needs it: its format, its element count and a sample of its
 * first elements, read from the file on disk in streaming passes.
 */
import { createReadStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { formatOf, sampleInput } from '../../analyzer/src/index.ts'
import { NotAJsonArrayError, jsonArrayToLines } from './json-lines.ts'
import type { InputFormat } from '../../analyzer/src/index.ts'

/** Bytes read from the start of an input to sample its elements for the memory estimate. */
const SAMPLE_BYTES = 256 * 1024

export type PlannerFormat = 'json' | 'jsonl' | 'csv' | 'text'

/**
 * A `.json` upload whose top level is an array, rewritten as JSON Lines (`NAME.jsonl`, beside it unless `dir` says
 * where): every task then loads the same list, and the input can be split. Anything else is returned as it is.
 */
export async function asJsonLines (input: { name: string, path: string }, dir?: string): Promise<{ name: string, path: string }> {
  if (formatOf(input.name) !== 'json') return input
  const path = dir === undefined ? `${input.path}.jsonl` : join(dir, `${basename(input.path)}.jsonl`)
  try {
    await jsonArrayToLines(input.path, path)
    return { name: `${input.name}.jsonl`, path }
  } catch (err) {
    await rm(path, { force: true })
    if (err instanceof NotAJsonArrayError) return input
    throw err
  }
}

export function plannerFormat (format: InputFormat): PlannerFormat {
  return format === 'lines' ? 'text' : format
}

export function analyzerFormat (format: PlannerFormat): InputFormat {
  return format === 'text' ? 'lines' : format
}

/** `len(data)` as the runtime would load the file: lines (non-empty for jsonl, minus the header for csv). */
export async function countElements (path: string, format: PlannerFormat): Promise<number | undefined> {
  if (format === 'json') return undefined
  let lines = 0
  let last = 0x0a
  for await (const piece of createReadStream(path)) {
    const bytes = piece as Buffer
    for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) lines++
    if (bytes.byteLength > 0) last = bytes[bytes.byteLength - 1] ?? last
  }
  if (last !== 0x0a) lines++
  return format === 'csv' ? Math.max(0, lines - 1) : lines
}

/** The first elements of an input (whole lines of its first 256 KiB), for the analyzer's size estimates. */
export async function readSample (path: string, format: PlannerFormat): Promise<{ sample: unknown[], text: string } | undefined> {
  let text = ''
  for await (const piece of createReadStream(path, { start: 0, end: SAMPLE_BYTES - 1, encoding: 'utf8' })) text += piece as string
  const cut = text.lastIndexOf('\n')
  if (cut < 0) return undefined
  try {
    const { sample, text: sampleText } = sampleInput(text.slice(0, cut + 1), analyzerFormat(format))
    return { sample, text: sampleText }
  } catch {
    return undefined
  }
}
