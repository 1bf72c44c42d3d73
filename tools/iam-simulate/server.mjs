// A long-lived IAM evaluator: one JSON request per line on stdin, one JSON answer per line on
// stdout, in order. The Python side (scripts/iam_simulator.py) keeps one process for a whole
// test session or sandbox run instead of starting node per request.
//
// Request:  {"id": any, "simulation": <iam-simulate Simulation>}
// Answer:   {"id": any, "result": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied",
//            "deciding": [statement ids], "error": null | string}
//
// The request context is filtered to the keys IAM defines for the action (iam-simulate's own
// table, from the Service Authorization Reference): S3 authorises one request as several actions,
// and each is evaluated with its own keys only (s3:if-none-match exists for s3:PutObject, not
// for the s3:PutObjectTagging that a tagged PutObject also needs).
//
// @cloud-copilot/iam-simulate is AGPL-3.0: this file only calls it from a separate process at
// test time; nothing of it is linked into, or shipped with, the project's code.
import './kept-collators.mjs' // before the package: its case-insensitive comparisons keep their collators
import { register } from 'node:module'
import { createInterface } from 'node:readline'

// Registered before the package is imported, so its resource-type lookup is memoised (see the hook).
register('./memo-resource-types.mjs', import.meta.url)
const { allowedContextKeysForRequest, runSimulation } = await import('@cloud-copilot/iam-simulate')

const allowedKeys = new Map()

async function keysFor(action, resource) {
  const cacheKey = `${action} ${resource.includes('/') ? 'object' : 'bucket'}`
  if (!allowedKeys.has(cacheKey)) {
    const [service, name] = action.split(':')
    const keys = await allowedContextKeysForRequest(service, name, resource)
    // Templates such as "s3:requestobjecttag/<key>" or "aws:principaltag/tag-key" match a prefix.
    allowedKeys.set(
      cacheKey,
      keys.map((key) => key.toLowerCase().replace(/(<key>|tag-key)$/, '')),
    )
  }
  return allowedKeys.get(cacheKey)
}

async function filterContext(request) {
  const keys = await keysFor(request.action, request.resource.resource)
  const allowed = (name) => {
    const lower = name.toLowerCase()
    return keys.some((key) => (key.endsWith('/') ? lower.startsWith(key) : lower === key))
  }
  const context = {}
  for (const [name, value] of Object.entries(request.contextVariables ?? {})) {
    if (allowed(name)) context[name] = value
  }
  return { ...request, contextVariables: context }
}

function statementIds(analysis, kind) {
  const ids = []
  for (const part of ['identityAnalysis', 'resourceAnalysis', 'permissionBoundaryAnalysis']) {
    for (const found of analysis?.[part]?.[kind] ?? []) {
      ids.push(found.statement?.Sid ?? found.explain?.identifier ?? `${found.policyId ?? part}#?`)
    }
  }
  return ids
}

async function answer(line) {
  const { id, simulation } = JSON.parse(line)
  try {
    const request = await filterContext(simulation.request)
    const response = await runSimulation({ ...simulation, request }, {})
    if (response.resultType === 'error') {
      return { id, result: null, deciding: [], error: JSON.stringify(response.errors) }
    }
    const analysis = response.result?.analysis
    const result = response.overallResult
    const kind = result === 'ExplicitlyDenied' ? 'denyStatements' : 'allowStatements'
    return { id, result, deciding: result === 'ImplicitlyDenied' ? [] : statementIds(analysis, kind), error: null }
  } catch (error) {
    return { id, result: null, deciding: [], error: String(error?.stack ?? error) }
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
// Answers keep the order of the requests: each waits for the previous one to be written.
let previous = Promise.resolve()
for await (const line of lines) {
  if (!line.trim()) continue
  const pending = answer(line)
  previous = previous.then(async () => {
    process.stdout.write(JSON.stringify(await pending) + '\n')
  })
}
await previous
