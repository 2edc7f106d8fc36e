// An action provider built with the real @wix/sdk: actionProvider.provideHandlers({invoke, ...}) behind
// AppStrategy({appId, publicKey}), served on 127.0.0.1. Switchyard calls it with requestFormat WIX_JWT
// (an RS256 JWT body, reference §4.1); the SDK verifies the envelope and dispatches. Used by
// cmd/switchyard/sdk_provider_test.go, which asserts on the JSON lines this prints on stdout:
//   {"event":"listening","url"}                     once, when the server is up
//   {"event":"invoke","request","metadata"}         what the SDK handed the invoke handler
//   {"event":"validateConfiguration"|"getQuotaInfo", ...}
//   {"event":"rejected","status","error"}           a request the SDK refused (bad JWT, unknown method)
//   {"event":"completed","status","body"}           the provider's ReportActionInvocationCompleted call
//
// CommonJS on purpose: @wix/automations/service-plugins' ESM build has extension-less imports that
// Node's ESM loader rejects (reference §7.2).
//
// Environment: APP_ID, PUBLIC_KEY (PEM, from GET /v1/platform/public-key), BASE (Switchyard's URL).
// The app key for the completion call arrives later as one stdin line {"appKey": "..."}, because the
// app can only be registered once this server's URL is known.
'use strict';
const http = require('node:http');
const readline = require('node:readline');
const { createClient, AppStrategy } = require('@wix/sdk');
const { actionProvider } = require('@wix/automations/service-plugins');

const need = (k) => {
  const v = process.env[k];
  if (!v) {
    console.error(`sdk-provider: ${k} is required`);
    process.exit(2);
  }
  return v;
};
const APP_ID = need('APP_ID');
const PUBLIC_KEY = need('PUBLIC_KEY');
const BASE = need('BASE').replace(/\/+$/, '');
let appKey = '';
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  try {
    appKey = JSON.parse(line).appKey ?? appKey;
  } catch {}
});

const out = (line) => process.stdout.write(JSON.stringify(line) + '\n');

// completeLater reports the async action's completion once the invoke answer is on its way, the way a
// provider finishing work in the background would.
const completeLater = (token) =>
  setTimeout(async () => {
    const res = await fetch(BASE + '/automations_runtime/v1/report-action-invocation-completed', {
      method: 'POST',
      headers: { authorization: appKey, 'content-type': 'application/json' },
      body: JSON.stringify({ invocationToken: token, status: 'SUCCESS', successInfo: { result: { approvedBy: 'sdk-provider' } } }),
    });
    out({ event: 'completed', status: res.status, body: await res.text() });
  }, 0);

const client = createClient({ auth: AppStrategy({ appId: APP_ID, publicKey: PUBLIC_KEY }), modules: { actionProvider } });
client.actionProvider.provideHandlers({
  invoke: async ({ request, metadata }) => {
    out({ event: 'invoke', request, metadata });
    if (request.actionKey === 'approve') {
      completeLater(request.activationContext?.invocationToken);
      return { result: {}, invokeTimeoutType: 'TIMEOUT_LENGTH', timeoutLengthOptions: { timeoutInMinutes: 5 } };
    }
    return { result: { code: 'SDK-' + request.actionParams.email } };
  },
  validateConfiguration: async ({ request, metadata }) => {
    out({ event: 'validateConfiguration', request, metadata });
    return { valid: true, configurationErrors: [] };
  },
  getQuotaInfo: async ({ request, metadata }) => {
    out({ event: 'getQuotaInfo', request, metadata });
    return { actionQuotaInfo: { enforced: false, quotaInfo: [] } };
  },
});

const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks).toString('utf8');
  try {
    const answer = await client.servicePlugins.processRequest(
      new Request('http://127.0.0.1' + req.url, { method: req.method, body, headers: { 'content-type': req.headers['content-type'] ?? 'text/plain' } }),
    );
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(await answer.text());
  } catch (e) {
    // The SDK throws on an envelope it does not accept; a real provider answers 401.
    out({ event: 'rejected', status: 401, error: String(e?.message ?? e) });
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: String(e?.message ?? e) }));
  }
});
server.listen(0, '127.0.0.1', () => out({ event: 'listening', url: `http://127.0.0.1:${server.address().port}` }));
process.stdin.on('end', () => server.close());
