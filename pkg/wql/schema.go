package wql

// AutomationSchema is what QueryAutomations filters and sorts on (reference §2.2, the SDK query builder's
// fields). $startsWith is only on name, trigger appId and triggerKey; configuration.trigger.filters is
// sort-only, as the builder offers it.
func AutomationSchema() Schema {
	str := []string{"$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$exists"}
	prefixed := append(append([]string(nil), str...), "$startsWith")
	flag := Field{Kind: Bool}
	ids := Field{Kind: StringArray}
	return Schema{
		"id":                               {Kind: String, Ops: str},
		"name":                             {Kind: String, Ops: prefixed, Sortable: true},
		"configuration.status":             {Kind: Enum, Enum: []string{"ACTIVE", "INACTIVE"}, Sortable: true},
		"configuration.trigger.appId":      {Kind: String, Ops: prefixed, Sortable: true},
		"configuration.trigger.triggerKey": {Kind: String, Ops: prefixed, Sortable: true},
		"configuration.trigger.filters":    {Kind: Object, Ops: []string{}, Sortable: true},
		"configuration.trigger.filterValueSelection.selectedFilterValues": ids,
		"origin":                       {Kind: Enum, Enum: []string{"USER", "APPLICATION", "PREINSTALLED", "RECIPE"}, Sortable: true},
		"settings":                     {Kind: Object},
		"settings.readonly":            flag,
		"settings.disableDelete":       flag,
		"settings.disableStatusChange": flag,
		"settings.hidden":              flag,
		"settings.actionSettings":      {Kind: Object},
		"settings.actionSettings.permanentActionIds":       ids,
		"settings.actionSettings.readonlyActionIds":        ids,
		"settings.actionSettings.disableDelayAddition":     flag,
		"settings.actionSettings.disableConditionAddition": flag,
		"createdDate": {Kind: Timestamp, Sortable: true},
		"updatedDate": {Kind: Timestamp, Sortable: true},
	}
}
