/** Every protocol id of ours starts with this prefix, so a RunSurge mesh never mixes with public networks. */
export const PROTOCOL_PREFIX = 'runsurge'

/** Builds `/runsurge/<name>/<version>`. */
export function protocolId (name: string, version: string): string {
  return `/${PROTOCOL_PREFIX}/${name}/${version}`
}
