// Package systemtest registers the built-in system app's contact_updated trigger for tests, through the
// public API, the way an operator could. Until pkg/systemapp registers its catalog and counts as installed
// on every site by itself, tests that use contact_updated call Install; afterwards Install is harmless
// (the app may already exist, the trigger is an upsert, an installation keeps the first).
package systemtest

import (
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/systemapp"
)

// ContactUpdatedSchema is the payload schema of the system trigger contact_updated: contactId is the
// contact identity (identity enrichment adds `contact`), data is what an API run passes along.
const ContactUpdatedSchema = `{"type":"object","required":["contactId"],"properties":{
  "contactId":{"type":"string","format":"uuid","identityType":"contact","title":"Contact ID"},
  "email":{"type":"string"},"phone":{"type":"string"},
  "name":{"type":"object","properties":{"first":{"type":"string"},"last":{"type":"string"}}},
  "attributes":{"type":"object"},
  "data":{"type":"object","description":"Extra data given when the run was started through the API."}}}`

// Do sends one request with the given Authorization key and returns the status and body.
type Do func(method, path, key, body string) (int, []byte)

// Install registers the system app (if absent) and its contact_updated trigger with the admin key, and
// installs the app on the owner key's site.
func Install(t testing.TB, do Do, adminKey, ownerKey string) {
	t.Helper()
	if code, body := do("POST", "/v1/apps", adminKey, `{"app":{"id":"`+systemapp.AppID+`","name":"Switchyard"}}`); code != 200 && code != 409 {
		t.Fatalf("register the system app: %d %s", code, body)
	}
	if code, body := do("POST", "/v1/triggers", adminKey, `{"trigger":{"appId":"`+systemapp.AppID+`","triggerKey":"`+
		systemapp.TriggerContactUpdated+`","displayName":"Contact updated","payloadDataSchema":`+ContactUpdatedSchema+`}}`); code != 200 {
		t.Fatalf("register contact_updated: %d %s", code, body)
	}
	if code, body := do("POST", "/v1/installations", ownerKey, `{"appId":"`+systemapp.AppID+`"}`); code != 200 {
		t.Fatalf("install the system app: %d %s", code, body)
	}
}
