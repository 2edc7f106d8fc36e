package awslocal

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var placeholderRE = regexp.MustCompile(`\$\{([^}]+)\}`)

// DummySubstitutions replaces every "${NAME}" in an ASL text with a well-formed Lambda ARN
// (arn:aws:lambda:us-east-1:123456789012:function:NAME, NAME reduced to the characters a
// function name allows), so the definition can be parsed and validated without a deployment.
func DummySubstitutions(text string) string {
	return placeholderRE.ReplaceAllStringFunc(text, func(m string) string {
		name := placeholderRE.FindStringSubmatch(m)[1]
		var b strings.Builder
		for _, r := range name {
			if r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
				b.WriteRune(r)
			} else {
				b.WriteByte('-')
			}
		}
		return "arn:aws:lambda:us-east-1:123456789012:function:" + b.String()
	})
}

// ValidateASL runs asl-validator 4 on the ASL JSON file at path (after DummySubstitutions)
// and fails the test with the validator's report when the definition is invalid.
func ValidateASL(t testing.TB, path string) {
	t.Helper()
	if ok, out := CheckASL(t, path); !ok {
		t.Fatalf("awslocal: %s is not a valid state machine definition:\n%s", path, out)
	}
}

// CheckASL runs asl-validator on path (after DummySubstitutions) and reports whether it is
// valid, with the validator's output. It fails the test only when the validator cannot run.
func CheckASL(t testing.TB, path string) (valid bool, output string) {
	t.Helper()
	infra := EnsureNodeModules(t)
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "Node.js (>= 20) is not on PATH: install it (Debian: apt-get install -y nodejs npm)")
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("awslocal: %v", err)
	}
	tmp := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(tmp, []byte(DummySubstitutions(string(text))), 0o644); err != nil {
		t.Fatalf("awslocal: %v", err)
	}
	cmd := exec.Command(node, filepath.Join(infra, "node_modules", "asl-validator", "dist", "bin", "asl-validator.js"), "--json-path", tmp)
	cmd.Dir = infra
	cmd.Env = nodeEnv(infra, "")
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return true, string(out)
	case errors.As(err, &exitErr) && exitErr.ExitCode() == 1:
		return false, string(out)
	default:
		t.Fatalf("awslocal: asl-validator did not run: %v\n%s", err, out)
		return false, ""
	}
}
