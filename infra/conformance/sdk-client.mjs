// Drives Switchyard's Wix-compatible API with the real @wix/sdk + @wix/automations client modules and
// prints one JSON line per step on stdout: {"step", "ok": true, "result"} with what the SDK handed back to
// its caller, or {"step", "ok": false, "error": {status, code, message, details, ...}} with what it threw.
// cmd/switchyard/sdk_conformance_test.go asserts on these lines; the script itself asserts nothing.
//
// Environment:
//   BASE     server URL, e.g. http://127.0.0.1:8080 (the SDK always calls https://www.wixapis.com/...;
//            our fetch rewrites the origin to BASE)
//   API_KEY  site owner key          SITE_ID  the site's GUID
//   APP_KEY  key of the app that owns the trigger (for activations.reportEvent & co.)
//   APP_ID   that app's id           TRIGGER_KEY  its trigger (default form_submitted)
//   ACTION_KEY  an action of the app taking {email} (default lookup_coupon)
import { randomUUID } from 'node:crypto';
import { createClient, ApiKeyStrategy } from '@wix/sdk';
import { automationsServiceV2, activations } from '@wix/automations';

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined || v === '') {
    console.error(`sdk-client: ${k} is required`);
    process.exit(2);
  }
  return v;
};
const BASE = env('BASE').replace(/\/+$/, '');
const SITE_ID = env('SITE_ID');
const APP_ID = env('APP_ID');
const TRIGGER_KEY = env('TRIGGER_KEY', 'form_submitted');
const ACTION_KEY = env('ACTION_KEY', 'lookup_coupon');

// Every request the SDK makes, as it left the SDK (method, path+query, body), for diagnosing failures.
const sent = [];
const rewrite = (url, init) => {
  const u = new URL(String(url));
  sent.push({ method: init?.method ?? 'GET', url: u.pathname + u.search, body: init?.body ?? null });
  return fetch(BASE + u.pathname + u.search, init);
};
const mk = (apiKey) =>
  createClient({
    modules: { automationsServiceV2, activations },
    auth: ApiKeyStrategy({ apiKey, siteId: SITE_ID }),
    fetch: rewrite,
  });
const owner = mk(env('API_KEY'));
const app = mk(env('APP_KEY'));
const v2 = owner.automationsServiceV2;

const out = (line) => process.stdout.write(JSON.stringify(line) + '\n');
const errInfo = (e) => ({
  name: e?.name,
  status: e?.status ?? e?.details?.status,
  code: e?.code,
  message: e?.message,
  details: e?.details,
  requestId: e?.requestId,
  runtimeError: e?.runtimeError ? String(e.runtimeError?.stack ?? e.runtimeError).split('\n').slice(0, 3).join(' | ') : undefined,
  keys: e && typeof e === 'object' ? Object.keys(e) : [],
});

// step runs fn, prints its outcome and returns {ok, result|error}; extra is merged into the line.
async function step(name, fn, extra = {}) {
  const from = sent.length;
  try {
    const result = await fn();
    out({ step: name, ok: true, result: result === undefined ? null : result, ...extra });
    return { ok: true, result };
  } catch (e) {
    out({ step: name, ok: false, error: errInfo(e), requests: sent.slice(from), ...extra });
    return { ok: false, error: e };
  }
}

// A one-action automation written the way an SDK user writes it: `_id` on the action (the SDK renames
// it to `id` on the wire).
function automation(name, status) {
  const a = randomUUID();
  return {
    name,
    origin: 'USER',
    configuration: {
      status,
      trigger: { appId: APP_ID, triggerKey: TRIGGER_KEY },
      rootActionIds: [a],
      actions: {
        [a]: {
          _id: a,
          type: 'APP_DEFINED',
          appDefinedInfo: { appId: APP_ID, actionKey: ACTION_KEY, inputMapping: { email: '{{var("email")}}' } },
        },
      },
    },
  };
}

// --- create: five ACTIVE "Conf …" automations, one INACTIVE "Conf …", one ACTIVE not matching the prefix.
const specs = [
  ['Conf A', 'ACTIVE'],
  ['Conf B', 'ACTIVE'],
  ['Conf C', 'ACTIVE'],
  ['Conf D', 'ACTIVE'],
  ['Conf E', 'ACTIVE'],
  ['Conf Z inactive', 'INACTIVE'],
  ['Other', 'ACTIVE'],
];
const created = {};
for (const [name, status] of specs) {
  const r = await step('createAutomation', () => v2.createAutomation(automation(name, status)), { name });
  if (r.ok) created[name] = r.result;
}
const first = created['Conf A'];
if (!first?._id) {
  out({ step: 'abort', reason: 'createAutomation did not hand back an automation with _id' });
  process.exit(0);
}
const id = first._id;
const actionId = first.configuration?.rootActionIds?.[0];

// --- get
const got = await step('getAutomation', () => v2.getAutomation(id));

// --- update with the current revision, then with the now stale one.
// The automation as fetched carries _createdDate/_updatedDate as the wire's strings (these modules do not
// turn response timestamps into Dates), while the request side calls toISOString() on them: handing the
// fetched object straight back throws inside the SDK before any request is sent. Recorded, not fatal.
const current = got.ok ? got.result : first;
await step('updateAutomation.roundTripDates', () =>
  v2.updateAutomation(id, { ...current, name: 'Conf A round trip', revision: current.revision }),
);
// What a caller does instead: send the writable fields (name, origin, settings, configuration) + revision.
const { _id: _i, _createdDate: _c, _updatedDate: _u, createdBy: _cb, updatedBy: _ub, ...writable } = current;
await step('updateAutomation', () =>
  v2.updateAutomation(id, { ...writable, name: 'Conf A renamed', revision: current.revision }),
);
await step('updateAutomationStale', () =>
  v2.updateAutomation(id, { ...writable, name: 'Conf A stale', revision: current.revision }),
);

// --- query: builder, then hasNext()/next() through every page.
{
  const pages = [];
  let res;
  const r = await step('queryAutomations.find', async () => {
    res = await v2
      .queryAutomations()
      .eq('configuration.status', 'ACTIVE')
      .startsWith('name', 'Conf')
      .descending('name')
      .limit(2)
      .find();
    return page(res);
  });
  function page(p) {
    return {
      names: p.items.map((a) => a.name),
      ids: p.items.map((a) => a._id),
      rawIdKeys: p.items.map((a) => ('id' in a ? 'id' : '') + ('_id' in a ? '_id' : '')),
      length: p.length,
      pageSize: p.pageSize,
      hasNext: p.hasNext(),
      cursors: p.cursors,
    };
  }
  if (r.ok) {
    pages.push(r.result);
    for (let i = 0; i < 10 && res.hasNext(); i++) {
      const n = await step('queryAutomations.next', async () => {
        res = await res.next();
        return page(res);
      }, { page: i + 2 });
      if (!n.ok) break;
      pages.push(n.result);
    }
  }
  out({ step: 'queryAutomations.pages', ok: true, result: pages.map((p) => p.names) });
}

// --- validate
{
  const { revision, ...body } = writable;
  await step('validateAutomation.valid', () => v2.validateAutomation(body));
}
await step('validateAutomation.emptyName', () => v2.validateAutomation({ name: '' }));
await step('validateAutomationById', () => v2.validateAutomationById(id));

// --- action schema, quota
await step('getAutomationActionSchema', () => v2.getAutomationActionSchema({ automationId: id, actionId }));
await step('getActionsQuotaInfo', () => v2.getActionsQuotaInfo());

// --- unknown id
await step('getAutomation.unknown', () => v2.getAutomation(randomUUID()));

// --- activations, as the app (idempotency: the same key twice → the same activations).
const idem = { key: 'conf-' + randomUUID(), ttlInMilliseconds: '60000' };
const payload = { name: 'Ada', email: 'ada@example.com' };
await step('reportEvent.first', () =>
  app.activations.reportEvent(TRIGGER_KEY, { payload, externalEntityId: randomUUID(), idempotency: idem }),
);
await step('reportEvent.again', () =>
  app.activations.reportEvent(TRIGGER_KEY, { payload, externalEntityId: randomUUID(), idempotency: idem }),
);
const ext1 = randomUUID();
const ext2 = randomUUID();
await step('bulkReportEvent', () =>
  app.activations.bulkReportEvent(TRIGGER_KEY, [
    { payload, externalEntityId: ext1 },
    { payload, externalEntityId: ext2 },
  ]),
);
await step('cancelEvent', () => app.activations.cancelEvent(TRIGGER_KEY, ext1));
await step('bulkCancelEvent', () => app.activations.bulkCancelEvent(TRIGGER_KEY, [ext2]));

// --- copy and drafts
const srcId = created['Conf D']?._id;
await step('copyAutomation', () => v2.copyAutomation(srcId));
const draft = await step('getOrCreateDraftAutomation', () => v2.getOrCreateDraftAutomation(srcId));
const draftId = draft.result?.automation?._id;
await step('getOrCreateDraftAutomation.again', () => v2.getOrCreateDraftAutomation(srcId));
await step('updateDraftAutomation', () => v2.updateDraftAutomation(draftId, { name: 'Conf D drafted' }));
await step('queryAutomationsWithDrafts', () => v2.queryAutomationsWithDrafts({ query: { filter: { name: { $startsWith: 'Conf D' } } } }));
await step('publishDraftAutomation', () => v2.publishDraftAutomation(draftId));
const loose = await step('createDraftAutomation', () => v2.createDraftAutomation({ automation: { name: 'Loose draft' } }));
await step('deleteDraftAutomation', () => v2.deleteDraftAutomation(loose.result?.automation?._id));

// --- preinstalled, as the app: the component shows on the site, a new version replaces it, deletion removes it.
const appV2 = app.automationsServiceV2;
const comp = randomUUID();
const preinstalled = (name, version) => ({
  ...automation(name, 'ACTIVE'),
  origin: 'PREINSTALLED',
  preinstalledInfo: { appId: APP_ID, componentId: comp, componentVersion: version },
});
const pre = await step('createPreinstalledAutomation', () => appV2.createPreinstalledAutomation(preinstalled('Pre A', 1)));
const preId = pre.result?.automation?._id;
await step('getAutomation.preinstalled', () => v2.getAutomation(preId));
await step('updatePreinstalledAutomation', () => appV2.updatePreinstalledAutomation(preinstalled('Pre A v2', 2)));
await step('updatePreinstalledAutomation.older', () => appV2.updatePreinstalledAutomation(preinstalled('Pre A v0', 1)));
await step('queryPreinstalledAutomationsForApp', () => appV2.queryPreinstalledAutomationsForApp({ query: {} }));
await step('createPreinstalledAutomation.byOwner', () => v2.createPreinstalledAutomation(preinstalled('Pre owner', 1)));
await step('deletePreinstalledAutomation', () => appV2.deletePreinstalledAutomation(comp));
await step('getAutomation.preinstalledDeleted', () => v2.getAutomation(preId));

// --- delete
const bulkIds = [created['Conf B']?._id, created['Conf C']?._id, randomUUID()].filter(Boolean);
await step('bulkDeleteAutomations', () => v2.bulkDeleteAutomations(bulkIds), { ids: bulkIds });
await step('getAutomation.bulkDeleted', () => v2.getAutomation(created['Conf B']._id));
await step('deleteAutomation', () => v2.deleteAutomation(id));
await step('getAutomation.deleted', () => v2.getAutomation(id));

out({ step: 'done', ok: true, result: { requests: sent.length } });
