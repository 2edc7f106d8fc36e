package scenarios_test

import (
	"testing"

	"github.com/switchyard-dev/switchyard/internal/scenarios"
)

// TestScenariosLocal runs the shared suite on the local runtime.
func TestScenariosLocal(t *testing.T) {
	scenarios.RunAll(t, scenarios.LocalDriver{})
}
