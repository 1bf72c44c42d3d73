// Imported by server.mjs before the evaluator package, for its one effect: String.prototype
// .localeCompare keeps the collator it builds.
//
// iam-simulate and its policy library compare names case-insensitively with
// `a.localeCompare(b, locales, { sensitivity: 'accent' })` (condition keys, ARN parts, KMS
// aliases). ECMA-402 defines that call as `new Intl.Collator(locales, options).compare(a, b)`
// (§19.1.1, String.prototype.localeCompare), so V8 builds an ICU collator on every comparison:
// measured as a quarter of the evaluator's CPU over a test's 1,176 evaluations
// (`node --cpu-prof`), and 47x slower than comparing with a collator kept for the same locales and
// options (same answers, accents and case included: docs/measurements.md). Here each distinct
// (locales, options) gets one collator, built by the same constructor with the same arguments, so
// every comparison answers as the specification says. Plain options are keyed by their JSON; any
// other options value goes to the built-in, as before.
const builtIn = String.prototype.localeCompare
const kept = new Map()

function keyOf(locales, options) {
  try {
    return JSON.stringify([locales ?? null, options ?? null])
  } catch {
    return undefined
  }
}

Object.defineProperty(String.prototype, 'localeCompare', {
  ...Object.getOwnPropertyDescriptor(String.prototype, 'localeCompare'),
  value: function localeCompare(that, locales, options) {
    // Only plain data is keyed; anything else (null included) is the built-in's to answer or refuse.
    const plain = options === undefined || (options !== null && Object.getPrototypeOf(options) === Object.prototype)
    const key = plain ? keyOf(locales, options) : undefined
    if (key === undefined) return builtIn.call(this, that, locales, options)
    let collator = kept.get(key)
    if (collator === undefined) {
      collator = new Intl.Collator(locales, options)
      kept.set(key, collator)
    }
    return collator.compare(String(this), String(that))
  },
})
