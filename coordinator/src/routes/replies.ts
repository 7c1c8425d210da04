/**
 * The failures routes answer with, in one shape (`ErrorReply`): `error` names the HTTP status, `message` says what to
 * do. The app's error handler answers thrown errors in the same shape.
 */
import { STATUS_CODES } from 'node:http'
import { ErrorReply } from '../schemas/common.ts'
import type { FastifyReply } from 'fastify'

/** The `response` schemas of the failures a route may answer with: `failures(401, 404)` is `{ 401: ErrorReply, 404: ErrorReply }`. */
export function failures<const C extends number> (...codes: C[]): Record<C, typeof ErrorReply> {
  return Object.fromEntries(codes.map(code => [code, ErrorReply])) as Record<C, typeof ErrorReply>
}

/** Answers `status` with `message`, the status named as the HTTP specification names it ("Not Found"). */
export async function fail (reply: FastifyReply, status: number, message: string): Promise<FastifyReply> {
  return await reply.code(status).send({ error: STATUS_CODES[status] ?? 'Error', message })
}
