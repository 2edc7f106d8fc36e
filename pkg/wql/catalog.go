package wql

// Schemas of the catalog reads (Switchyard's own API): apps, triggers and actions of every app. The key
// fields take $startsWith like the automation query's appId and triggerKey; displayName also takes
// $contains, for a search box.
func catalogSchema(keyField string) Schema {
	str := []string{"$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$exists"}
	prefixed := append(append([]string(nil), str...), "$startsWith")
	text := append(append([]string(nil), prefixed...), "$contains")
	return Schema{
		"appId":       {Kind: String, Ops: prefixed, Sortable: true},
		keyField:      {Kind: String, Ops: prefixed, Sortable: true},
		"displayName": {Kind: String, Ops: text, Sortable: true},
		"createdDate": {Kind: Timestamp, Sortable: true},
		"updatedDate": {Kind: Timestamp, Sortable: true},
	}
}

// TriggerSchema is what POST /v1/triggers/query filters and sorts on.
func TriggerSchema() Schema { return catalogSchema("triggerKey") }

// ActionSchema is what POST /v1/actions/query filters and sorts on.
func ActionSchema() Schema { return catalogSchema("actionKey") }

// AppSchema is the paging of GET /v1/apps: no filter fields, ordered by id.
func AppSchema() Schema {
	return Schema{"id": {Kind: String, Ops: []string{}}}
}

// CatalogPosition sets and returns doc["id"], the tie-breaker of a catalog page: an app keeps its id; a
// trigger or action definition (keyField "triggerKey" / "actionKey") gets "<appId>/<key>", unique because
// keys never hold '/'. Definitions are not filterable by id, so the stand-in is never seen.
func CatalogPosition(doc map[string]any, keyField string) string {
	if keyField != "" {
		app, _ := doc["appId"].(string)
		k, _ := doc[keyField].(string)
		doc["id"] = app + "/" + k
	}
	id, _ := doc["id"].(string)
	return id
}
