package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
	"github.com/switchyard-dev/switchyard/pkg/store/storetest"
)

// TestConformance runs the store conformance suite against a fresh database file per subtest.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "store.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
