package run

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// EncodeActivationCursor is the run-log list cursor every store issues: base64url("<created ms>|<id>"),
// so a cursor stays valid whichever store serves the next page.
func EncodeActivationCursor(createdMs int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(createdMs, 10) + "|" + id))
}

// DecodeActivationCursor reads a cursor made by EncodeActivationCursor; anything else is a 400.
func DecodeActivationCursor(c string) (createdMs int64, id string, err error) {
	bad := errs.Violation("cursorPaging.cursor", "FORMAT", "is not a cursor this server issued")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", bad
	}
	at, id, ok := strings.Cut(string(raw), "|")
	if !ok {
		return 0, "", bad
	}
	n, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return 0, "", bad
	}
	return n, id, nil
}
