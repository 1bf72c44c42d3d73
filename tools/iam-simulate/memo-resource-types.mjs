// A module-load hook for the evaluator process (registered by server.mjs).
//
// iam-simulate resolves an action's resource types by matching the request's ARN against every
// resource-type pattern of the action, on every evaluation: measured as 45% of the evaluator's CPU
// here (profile of 2,360 recorded sandbox requests, `node --cpu-prof`). The answer depends only on
// (service, action, ARN) and the package's static data, so this hook wraps the package's own
// function in a memo when its module is loaded; the function itself is unchanged.
// Every upload names a new object, so the memo would never hit on exact ARNs: an S3 object ARN
// (`arn:<partition>:s3:::<bucket>/<key>`, empty region and account) is remembered by its bucket
// alone. Of S3's resource-type patterns only `object` (`s3:::${BucketName}/${ObjectName}`) and
// `bucket` have an empty region and account, and which of them matches does not depend on what
// a non-empty key spells. The sandbox test suite evaluates every scenario through this hook.
// Each caller gets a fresh array, so a caller that mutated one could not change another's answer.
const TARGET = /\/@cloud-copilot\/iam-simulate\/dist\/esm\/simulation_engine\/resourceTypes\.js$/

export async function load(url, context, nextLoad) {
  const loaded = await nextLoad(url, context)
  if (!TARGET.test(url)) return loaded
  const source = String(loaded.source)
  const original = 'export async function getResourceTypesForAction('
  if (!source.includes(original)) {
    throw new Error(`memo-resource-types: ${url} no longer defines getResourceTypesForAction; update the hook`)
  }
  const memoised = `${source.replace(original, 'async function unmemoisedResourceTypesForAction(')}
const resourceTypesMemo = new Map()
const S3_OBJECT_KEY = /^(arn:[^:]+:s3:::[^/]+[/]).+$/s
export async function getResourceTypesForAction(service, action, resource) {
  const key = JSON.stringify([service, action, resource.replace(S3_OBJECT_KEY, '$1<any key>')])
  if (!resourceTypesMemo.has(key)) {
    resourceTypesMemo.set(key, unmemoisedResourceTypesForAction(service, action, resource))
  }
  return [...(await resourceTypesMemo.get(key))]
}
`
  return { ...loaded, source: memoised, shortCircuit: true }
}
