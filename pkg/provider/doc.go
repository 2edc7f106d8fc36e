// Package provider is the outbound service-plugin client: the engine uses it to call an app's
// provider (its providerBaseUri) for the action SPIs of Wix Automations — invoke,
// validate-configuration and quota-info (reference §4.2) — and the trigger SPIs refresh-payload and
// validate-configuration (§4.3); a Go provider uses VerifySignature to check that a call really came
// from Switchyard. Which methods are called at all is decided by the caller from the catalog's
// implementedMethods (pkg/plugins, pkg/engine).
//
// What the client guarantees, and why:
//
//   - Every call is a POST of plain JSON to BaseURI + /v1/<method>. When the Target has a secret the
//     body is signed (HMAC-SHA256 over "<unix seconds>.<siteId>.<body>", headers X-Switchyard-Timestamp,
//     X-Switchyard-Site-Id, X-Switchyard-Signature: v2=<hex>, X-Switchyard-App-Id). Each attempt is signed afresh so a retry
//     late in the budget does not arrive with a stale timestamp.
//   - Every attempt carries the same Idempotency-Key: a runner that loses its lease re-runs a step, and
//     the retry loop here re-sends, so a provider may see one invoke several times.
//   - The SSRF guard runs inside net.Dialer.Control, on the address actually dialled, so neither DNS
//     rebinding nor a hostname like "localhost" gets past it; redirects are never followed and no HTTP
//     proxy is used (a proxy would dial on our behalf, past the guard). An explicit AllowList
//     (ParseAllowList: CIDRs, IPs, IP:port, host:port) opens exceptions; NewGuardedTransport gives
//     other outbound callers (the webhook action) the same guarded dialer.
//   - Failures come back as one *Error whose Kind says what went wrong and whose Description is short
//     enough for a run log's errorDescription.
//
// Choices worth knowing about:
//
//   - Kind Canceled: the caller's own context was canceled. It is not the provider's fault, so the
//     engine should not record the action as FAILED; errors.Is(err, context.Canceled) also holds.
//   - HTTP 429 and 408 stay ClientError but are retried (honouring Retry-After within the budget):
//     both are transient by definition, and the Idempotency-Key makes the retry safe.
//   - A failure to connect (refused, DNS, connect timeout) is Unreachable, even when it is a timeout;
//     Timeout means a connected provider did not answer in time.
//   - Options.Now injects the clock used for signing and for validating timeout dates.
//   - ActivationContext also carries esbConfigurationId, which reference §4.2 lists on the wire.
//   - Providers that write int32 as strings (proto3 JSON) or int64 strings as numbers are accepted:
//     timeoutInMinutes may be "60", currentUsage/limit may be numbers.
//   - A caller-supplied Options.HTTPClient keeps its own transport: the guard then only pre-checks
//     IP-literal hosts. Use it for tests and instrumentation, not to relax the guard.
//   - Wix itself sends SPI calls as an RS256 JWT body (reference §4.1) that @wix/sdk providers
//     verify with the platform's public key. A Target with an Envelope (package wixjwt) is sent that
//     way instead of as signed plain JSON; the JWT authenticates itself, so no HMAC headers go with it.
//   - During a secret rotation a Target carries both secrets (Secrets) and every request one
//     signature per secret, comma-separated in X-Switchyard-Signature; a receiver that knows either
//     accepts it. Package outbound builds every Target the platform uses.
package provider
