/**
 * Operator routes, for the admin account only. `POST /api/admin/snapshots` writes a fresh snapshot of the database
 * into `DATA/snapshots` and says where: `runsurge coordinator backup` uses it while the coordinator runs (LevelDB's
 * LOCK keeps any other process out of the database), then copies the file.
 */
import { resolve } from 'node:path'
import { SnapshotView } from '../../../schemas/admin.ts'
import { fail, failures } from '../../replies.ts'
import type { SnapshotSchedule } from '../../../store/index.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'

const admin: FastifyPluginAsyncTypebox<{ snapshots: SnapshotSchedule }> = async (app, options) => {
  app.addHook('onRequest', app.authenticate)
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.account?.role !== 'admin') {
      await fail(reply, 403, 'only the coordinator\'s admin account may do this: use the adminToken of DATA/coordinator.json')
    }
  })

  app.post('/snapshots', {
    schema: {
      tags: ['admin'],
      summary: 'Write a snapshot of the database now (for backups of a running coordinator)',
      response: { 201: SnapshotView, ...failures(401, 403) }
    }
  }, async (request, reply) => {
    const info = (await options.snapshots.snapshot({ force: true }))!
    request.log.info({ path: info.path, commit: info.commit }, 'snapshot taken on request')
    return await reply.code(201).send({ ...info, path: resolve(info.path) })
  })
}

export default admin
