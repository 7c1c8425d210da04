/**
 * How the account routes check requests: TypeBox's own checker (a body of the wrong type is refused, where Ajv's
 * coercion would turn `12345678` into a password), with the field's `description` added to each message so the
 * answer says what a valid value looks like. Query strings and params are still converted (`"5"` → 5).
 */
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify'

interface SchemaNode { description?: string, properties?: Record<string, SchemaNode> }

export const strictValidator: FastifySchemaCompiler<any> = (route) => {
  const validate = TypeBoxValidatorCompiler(route)
  return (value) => {
    // TypeBox's compiler answers synchronously, with `{ value }` or `{ error: [...] }`.
    const result = validate(value) as { value?: unknown, error?: FastifySchemaValidationError[] }
    if (result.error === undefined) return result
    return { error: result.error.map(error => withHint(error, route.schema)) }
  }
}

function withHint (error: FastifySchemaValidationError, schema: SchemaNode): FastifySchemaValidationError {
  let node: SchemaNode | undefined = schema
  for (const segment of error.instancePath.split('/').slice(1)) {
    node = node?.properties?.[segment.replaceAll('~1', '/').replaceAll('~0', '~')]
  }
  // The root's description (if any) says nothing about one field.
  const hint = node !== schema ? node?.description : undefined
  return hint === undefined ? error : { ...error, message: `${error.message} (${hint})` }
}
