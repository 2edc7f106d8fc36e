// Package local runs activations inside `switchyard serve`: a pool of workers claims due branches from
// the store's durable queue, steps them through the engine and sleeps until the next one is due. Nothing
// lives only in memory: after a crash every unfinished branch is claimed again on start-up.
package local

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// Queue is the durable work queue (the SQLite store's branches table).
type Queue interface {
	ClaimDue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]run.BranchRef, error)
	Release(ctx context.Context, ref run.BranchRef, until time.Time) error
	ReleaseMany(ctx context.Context, rs []run.Release) error
	NextDue(ctx context.Context) (time.Time, bool, error)
	ResetLeases(ctx context.Context) error
}

// Stepper advances one branch by one step.
type Stepper interface {
	Step(ctx context.Context, ref run.BranchRef) (engine.Instruction, error)
}

// Options tune the runner; zero values get defaults.
type Options struct {
	Workers       int           // concurrent steps (default 32: steps mostly wait on providers)
	Lease         time.Duration // how long a claim is exclusive (default 10 min: longer than any invoke with retries)
	MaxIdle       time.Duration // longest sleep without re-checking the queue (default 5 s)
	DrainTimeout  time.Duration // on shutdown, how long in-flight steps may finish (default 30 s)
	StepsPerClaim int           // consecutive CONTINUE steps of one branch before yielding (default 64)
	Now           func() time.Time
	Logger        *slog.Logger
}

// Runner is the local runtime's scheduler.
type Runner struct {
	q        Queue
	opts     Options
	wake     chan struct{}
	released chan run.Release // workers' finished branches, released by the dispatcher in batches
	draining atomic.Bool      // shutting down: finish the current step of each branch, start no further one
}

// New returns a runner over q.
func New(q Queue, o Options) *Runner {
	if o.Workers <= 0 {
		o.Workers = 32
	}
	if o.Lease <= 0 {
		o.Lease = 10 * time.Minute
	}
	if o.MaxIdle <= 0 {
		o.MaxIdle = 5 * time.Second
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 30 * time.Second
	}
	if o.StepsPerClaim <= 0 {
		o.StepsPerClaim = 64
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{q: q, opts: o, wake: make(chan struct{}, 1), released: make(chan run.Release, 4*o.Workers)}
}

// Start tells the runner that branches became runnable. They are already durable; this only cuts the
// wait until the dispatcher looks again.
func (r *Runner) Start(_ context.Context, _ []run.BranchRef) error {
	r.Wake()
	return nil
}

// Wake makes the dispatcher look at the queue now.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run dispatches until ctx is done, then lets in-flight steps finish (up to DrainTimeout) and returns.
// A step cut off by the drain timeout is rolled back by the store and runs again after restart.
func (r *Runner) Run(ctx context.Context, s Stepper) error {
	if err := r.q.ResetLeases(ctx); err != nil {
		return err
	}
	// Queue queries are short and never cut off: a query interrupted by shutdown races the store's Close
	// inside the SQLite driver (its interrupt goroutine reads the connection unsynchronised).
	qctx := context.WithoutCancel(ctx)
	// Steps get their own context so that shutdown lets them finish instead of cutting a provider call.
	stepCtx, cancelSteps := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSteps()
	slots := make(chan struct{}, r.opts.Workers)
	var wg sync.WaitGroup
	for {
		r.flushReleases(qctx)
		free := r.opts.Workers - len(slots)
		if free > 0 {
			refs, err := r.q.ClaimDue(qctx, r.opts.Now(), r.opts.Lease, free)
			if err != nil && ctx.Err() == nil {
				r.opts.Logger.Error("claiming due branches failed", "err", err)
			}
			for _, ref := range refs {
				slots <- struct{}{}
				wg.Add(1)
				go func(ref run.BranchRef) {
					defer wg.Done()
					defer func() { <-slots }()
					r.work(stepCtx, s, ref)
					r.Wake() // a slot is free: look for more work
				}(ref)
			}
			if len(refs) == free {
				continue // there may be more due work right now
			}
		}
		sleep := r.opts.MaxIdle
		if free > 0 {
			if t, ok, err := r.q.NextDue(qctx); err == nil && ok {
				if d := time.Until(t); d < sleep {
					sleep = max(d, 0)
				}
			}
		}
		timer := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			timer.Stop()
			return r.drain(&wg, cancelSteps)
		case <-r.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

func (r *Runner) drain(wg *sync.WaitGroup, cancelSteps context.CancelFunc) error {
	r.draining.Store(true)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(r.opts.DrainTimeout):
		r.opts.Logger.Warn("shutdown: cutting off steps still running; they will run again after restart")
		cancelSteps()
		<-done
	}
	r.flushReleases(context.Background())
	return nil
}

// flushReleases writes the releases the workers queued, in one transaction.
func (r *Runner) flushReleases(ctx context.Context) {
	var batch []run.Release
	for {
		select {
		case rel := <-r.released:
			batch = append(batch, rel)
			continue
		default:
		}
		break
	}
	if len(batch) == 0 {
		return
	}
	if err := r.q.ReleaseMany(context.WithoutCancel(ctx), batch); err != nil {
		r.opts.Logger.Error("releasing branches failed; their leases will lapse", "err", err, "branches", len(batch))
	}
}

// work steps one claimed branch while it has immediate work, then releases it.
func (r *Runner) work(ctx context.Context, s Stepper, ref run.BranchRef) {
	backoff := time.Duration(0)
	for i := 0; i < r.opts.StepsPerClaim; i++ {
		ins, err := s.Step(ctx, ref)
		if err != nil {
			if ctx.Err() != nil {
				return // shutting down: the lease lapses at restart and the step runs again
			}
			r.opts.Logger.Error("step failed; retrying later", "activationId", ref.ActivationID, "branchId", ref.BranchID, "err", err)
			backoff = 2 * time.Second
			break
		}
		if ins.Kind != engine.Continue || r.draining.Load() {
			break
		}
	}
	var until time.Time
	if backoff > 0 {
		until = r.opts.Now().Add(backoff)
	}
	select {
	case r.released <- run.Release{Ref: ref, Until: until}:
	default: // the dispatcher is behind: release directly rather than wait
		if err := r.q.Release(context.WithoutCancel(ctx), ref, until); err != nil {
			r.opts.Logger.Error("releasing branch failed", "err", err)
		}
	}
}

// Resume wakes the dispatcher: the completed branch is already due now in the store.
func (r *Runner) Resume(_ context.Context, _ run.BranchRef, _ string) error {
	r.Wake()
	return nil
}
