// Package wql implements the subset of Wix's query language (WQL, reference §2.2) that CursorQuery
// endpoints accept: a filter object, up to five sort orders and cursor paging, evaluated over JSON documents
// in memory ([Query.Match], [Query.Less], [Query.Page]) or translated to parameterised SQLite ([Query.SQL]).
//
// A query is validated once against a [Schema] that names the filterable and sortable fields; everything
// else is a 400 (an *errs.Error with field violations such as "query.filter.name" or
// "query.sort[0].fieldName").
//
// Where the reference is silent the package chooses, and the tests pin the choice:
//   - Filter depth counts nested filter objects: the top-level object is depth 1, each $and/$or/$not
//     operand one more; a depth beyond 3 is a 400. So {"$and":[{"$or":[{"a":1}]}]} is the deepest allowed.
//   - Operators in one object (fields or operators) are ANDed. An empty filter ({}) matches everything.
//   - $ne matches documents where the field is missing (Mongo semantics); every other comparison is false on
//     a missing or null field. $exists:true means present and not null.
//   - $startsWith and $contains are case-sensitive, byte for byte, as $eq is.
//   - null as an operand is a 400 (use $exists). $in, $hasSome and $hasAll need a non-empty array.
//   - Enum operands must be one of the schema's values. Timestamps are RFC 3339 strings (or {"$date": "…"})
//     compared at millisecond precision; enums sort by their string value.
//   - Ordering is total: the sort fields in order, then id ascending. Values order missing/null < bool <
//     number < string, so missing values come first in ASC and last in DESC, as in SQLite.
//   - The cursor is base64url(JSON{filter, sort, limit, position}) with no MAC: the server keeps no state and
//     the tenant check lives in the store, so a forged cursor can only express a query the client could have
//     sent anyway. It is re-validated against the Schema on the way in; anything else is a 400 on
//     query.cursorPaging.cursor. A request with a cursor must not carry a filter or sort (an empty filter {}
//     or sort [] is tolerated, the SDK's skipTo sends one); its limit, when absent, is the original one.
//   - A cursorPaging.limit of 0 is proto3's "unset" and means the default, 50.
package wql
