package awslocal

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// unavailable reports a missing prerequisite: a skip locally, a failure in CI.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("awslocal: "+format+" (CI is set, so this fails instead of skipping)", args...)
	}
	t.Skipf("awslocal: "+format, args...)
}

// prereqError is a missing tool or file: reported through unavailable.
type prereqError struct{ msg string }

func (e *prereqError) Error() string { return e.msg }

// RepoRoot returns the directory holding go.mod, found by walking up from the working
// directory (a package directory under `go test`).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("awslocal: no go.mod found above the working directory")
		}
		dir = parent
	}
}

var (
	nodeOnce sync.Once
	nodeDir  string
	nodeErr  error
)

// EnsureNodeModules makes sure infra/node_modules matches infra/package.json, running
// `npm ci` in infra/ when it does not. It runs once per process and holds an exclusive file
// lock (infra/.npm-ci.lock) while checking and installing, so parallel test binaries neither
// race nor see a half-installed tree. It returns the absolute infra directory.
func EnsureNodeModules(t testing.TB) string {
	t.Helper()
	nodeOnce.Do(func() { nodeDir, nodeErr = ensureNodeModules() })
	if nodeErr != nil {
		var pe *prereqError
		if errors.As(nodeErr, &pe) {
			unavailable(t, "%v", nodeErr)
		}
		t.Fatalf("awslocal: %v", nodeErr)
	}
	return nodeDir
}

func ensureNodeModules() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	infra := filepath.Join(root, "infra")
	for _, f := range []string{"package.json", "package-lock.json", "sfn-run.mjs", "polyfill.cjs"} {
		if _, err := os.Stat(filepath.Join(infra, f)); err != nil {
			return "", fmt.Errorf("infra/%s is missing: %w", f, err)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return "", &prereqError{"Node.js (>= 20) is not on PATH: install it (Debian: apt-get install -y nodejs npm)"}
	}
	if v, err := exec.Command(node, "--version").Output(); err != nil {
		return "", fmt.Errorf("node --version: %v", err)
	} else if major, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(strings.TrimSpace(string(v)), "v"), ".", 2)[0]); major < 20 {
		// aws-local-stepfunctions 3 needs Node >= 22 (20 works with polyfill.cjs); Debian 12's own
		// nodejs package is Node 18, which lacks AbortSignal.any and more.
		return "", &prereqError{fmt.Sprintf("Node.js %s is too old: aws-local-stepfunctions needs Node >= 20 (22 preferred)", strings.TrimSpace(string(v)))}
	}
	unlock, err := lockFile(filepath.Join(infra, ".npm-ci.lock"))
	if err != nil {
		return "", fmt.Errorf("lock infra/.npm-ci.lock: %w", err)
	}
	defer unlock()
	if installedErr := checkNodeModules(infra); installedErr == nil {
		return infra, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", &prereqError{"npm is not on PATH and infra/node_modules is missing: install npm (Debian: apt-get install -y npm)"}
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = infra
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("npm ci in %s failed after %v: %v\n%s", infra, time.Since(start).Round(time.Millisecond), err, out)
	}
	if err := checkNodeModules(infra); err != nil {
		return "", fmt.Errorf("after npm ci: %w", err)
	}
	return infra, nil
}

// checkNodeModules verifies that each dependency pinned in package.json is installed at
// exactly that version.
func checkNodeModules(infra string) error {
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	b, err := os.ReadFile(filepath.Join(infra, "package.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return fmt.Errorf("infra/package.json: %w", err)
	}
	if _, err := os.Stat(filepath.Join(infra, "node_modules", ".package-lock.json")); err != nil {
		return err
	}
	for name, want := range pkg.Dependencies {
		var got struct {
			Version string `json:"version"`
		}
		b, err := os.ReadFile(filepath.Join(infra, "node_modules", filepath.FromSlash(name), "package.json"))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &got); err != nil {
			return err
		}
		if got.Version != strings.TrimPrefix(want, "=") {
			return fmt.Errorf("%s is %s, package.json pins %s", name, got.Version, want)
		}
	}
	return nil
}
