package awslocal

import (
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// Processes are started from one goroutine locked to its OS thread for the life of the test
// binary. Pdeathsig is delivered when the *thread* that forked the child exits, so a thread
// that never exits makes "the child dies with the test binary" hold even when the binary is
// killed or times out and no t.Cleanup runs.
var (
	spawnOnce sync.Once
	spawnCh   = make(chan func())
)

func startProcess(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	spawnOnce.Do(func() {
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for f := range spawnCh {
				f()
			}
		}()
	})
	errc := make(chan error, 1)
	spawnCh <- func() { errc <- cmd.Start() }
	return <-errc
}

// killProcessGroup kills the whole process group started by startProcess.
func killProcessGroup(p *os.Process) {
	if p == nil {
		return
	}
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	_ = p.Kill()
}
