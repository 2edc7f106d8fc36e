// Package expr implements the Wix Automations `{{ … }}` expression language: string values that embed
// function-call expressions evaluated against an activation payload (input mappings, conditions, trigger
// filters, delay and rate-limit expressions).
//
// A value is parsed once ([ParseTemplate], [ParseExpr], [ParseMapping]) and evaluated many times against an
// [Env]. Parsed values are immutable and safe for concurrent use; every evaluation gets its own step budget.
// The package is pure: no I/O, and time only comes from Env.Now.
//
// Grammar (reference §5), tolerant of every generation of saved automations:
//
//	template := { text | "{{" expr "}}" }
//	expr     := string | number | "true" | "false" | "null" | array | call | path | "$" ["." path] | "$_" ["." path]
//	array    := "[" [ expr { (","|";") expr } ] "]"
//	call     := name "(" [ expr { (";"|",") expr } ] ")"
//	path     := segment { "." segment }          segment := [A-Za-z0-9_-]+  (a bare path is a legacy var())
//	string   := '"' … '"' | "'" … "'"            URI-decoded on read (the builder stores encodeURIComponent text)
//
// Semantics borrowed from JSONata, which Wix compiles these expressions to: an absent value (var() of a
// missing path) is nil and propagates through arithmetic and text functions instead of failing, comparisons
// with an absent operand are false, and array functions treat a scalar as a one-element array and nil as
// an empty one.
//
// Where the reference is silent the package chooses, and the tests pin the choice:
//   - Numbers: numeric strings ("3") are accepted wherever a number is expected; "" counts as absent.
//     Variadic math functions flatten array arguments one level. round is half away from zero on the
//     decimal digits (round(1.005;2) = 1.01); its decimals argument is optional. Results that JSON cannot
//     carry (overflow to ±Inf) are errors.
//   - Equality in contains, stringContains and arrayIncludes*: JSON deep equality where a number equals a
//     string holding that number and a boolean equals "true"/"false" (trigger filter values are saved as
//     strings). stringEq and stringHasSubString ignore case; everything else is case-sensitive.
//   - eq/numberEq compare numbers; two non-numeric values fall back to equality (legacy eq(s;"paid")).
//   - Booleans: nil is false, "true"/"false" text is accepted, anything else is an error.
//   - Text: substring is 0-based in characters, a negative start counts from the end, the length is
//     optional. Stringified values: integral numbers without ".0" (JavaScript formatting), nil as "",
//     arrays and objects as JSON.
//   - Dates: RFC 3339 (also date-only and zone-less, read as UTC) or epoch milliseconds; results are
//     RFC 3339 UTC with milliseconds, like Date#toISOString. weekDay is ISO (Monday 1 … Sunday 7).
//     addToDate/subtractFromDate clamp to the end of the month (Jan 31 + 1 month = Feb 29 in 2024).
//   - arrayMap's second argument is an item path when it is a string literal, otherwise an expression
//     evaluated per element with $_ bound. $_.path and $.path read into the element and the payload.
//     arrayIncludesOnly of an empty list is true.
//   - if takes an optional else (nil when missing); if, and, or, arraySome and arrayEvery short-circuit.
//
// Bounds: inputs up to MaxInputLen bytes, nesting up to MaxDepth, Env.MaxSteps steps per evaluation
// (every node and every array element visited costs one), strings up to MaxStringLen. Evaluation never
// panics on any input and results never alias the payload or the parse tree.
package expr
