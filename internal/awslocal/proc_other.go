//go:build !linux

package awslocal

import (
	"os"
	"os/exec"
)

func startProcess(cmd *exec.Cmd) error { return cmd.Start() }

func killProcessGroup(p *os.Process) {
	if p != nil {
		_ = p.Kill()
	}
}
