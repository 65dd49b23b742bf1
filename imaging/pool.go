package imaging

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// PoolConfig configures a Pool. Zero values mean the defaults.
type PoolConfig struct {
	// Workers is the number of jobs run at once; zero means GOMAXPROCS,
	// which follows the container's CPU limit.
	Workers int
	// QueueSize is how many jobs may wait for a worker; zero means 4 per
	// worker. Past it, jobs are refused at once with CodeOverloaded.
	QueueSize int
	// QueueTimeout is the longest a job waits for a worker and for memory;
	// zero means 10 s.
	QueueTimeout time.Duration
	// JobTimeout is the deadline of a job once a worker runs it; zero means 30 s.
	JobTimeout time.Duration
	// MemoryBudget is the estimated bytes all admitted jobs may hold at once;
	// zero means no memory admission.
	MemoryBudget int64
	// OnQueueWait, if set, observes how long each admitted job waited; ctx
	// is the context the job was submitted with (the request's).
	OnQueueWait func(ctx context.Context, wait time.Duration)
}

// Pool runs jobs on a fixed set of worker goroutines behind a bounded queue,
// admitting them by count and by estimated memory.
type Pool struct {
	cfg    PoolConfig
	jobs   chan *job     // unbuffered: a send succeeds only when a worker is idle
	slots  chan struct{} // one token per waiting job
	mem    *semaphore.Weighted
	queued atomic.Int64
	busy   atomic.Int64
	inMem  atomic.Int64
	quit   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

type job struct {
	ctx  context.Context
	fn   func(context.Context)
	cost int64
	done chan struct{}
}

// NewPool starts the workers of a pool. Close stops them.
func NewPool(cfg PoolConfig) *Pool {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 4 * cfg.Workers
	}
	if cfg.QueueTimeout <= 0 {
		cfg.QueueTimeout = 10 * time.Second
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = 30 * time.Second
	}
	p := &Pool{
		cfg:   cfg,
		jobs:  make(chan *job),
		slots: make(chan struct{}, cfg.QueueSize),
		quit:  make(chan struct{}),
	}
	if cfg.MemoryBudget > 0 {
		p.mem = semaphore.NewWeighted(cfg.MemoryBudget)
	}
	p.wg.Add(cfg.Workers)
	for range cfg.Workers {
		go p.work()
	}
	return p
}

func (p *Pool) work() {
	defer p.wg.Done()
	for {
		select {
		case <-p.quit:
			return
		case j := <-p.jobs:
			p.busy.Add(1)
			if j.ctx.Err() == nil { // the client may have gone while the job was handed over
				jctx, cancel := context.WithTimeout(j.ctx, p.cfg.JobTimeout)
				j.fn(jctx)
				cancel()
			}
			p.busy.Add(-1)
			p.release(j.cost)
			close(j.done)
		}
	}
}

func (p *Pool) release(cost int64) {
	if p.mem != nil {
		p.mem.Release(cost)
		p.inMem.Add(-cost)
	}
}

// Do runs job on a worker and waits for it. The job's context carries the
// job deadline and ends when ctx does. Do returns CodeOverloaded at once when
// the queue is full, or when no worker or memory came free within the queue
// timeout; CodeProcessingTimeout when the job ran past its deadline; and
// CodeImageTooLarge when cost alone exceeds the memory budget. A caller
// whose ctx ends while it waits leaves the queue at once.
func (p *Pool) Do(ctx context.Context, cost int64, fn func(ctx context.Context)) error {
	if p.mem != nil && cost > p.cfg.MemoryBudget {
		return Errorf(CodeImageTooLarge, "processing this image needs about %d MiB; the memory budget of a job is %d MiB",
			cost>>20, p.cfg.MemoryBudget>>20).
			WithHint("send a smaller image or ask for a smaller output").WithLimit(LimitMemoryBudget)
	}
	select {
	case p.slots <- struct{}{}:
	default:
		return p.overloaded(fmt.Sprintf("all %d workers are busy and the queue of %d is full", p.cfg.Workers, p.cfg.QueueSize))
	}
	p.queued.Add(1)
	start := time.Now()
	leaveQueue := func() {
		<-p.slots
		p.queued.Add(-1)
	}

	qctx, cancel := context.WithTimeout(ctx, p.cfg.QueueTimeout)
	defer cancel()
	if p.mem != nil {
		if err := p.mem.Acquire(qctx, cost); err != nil {
			leaveQueue()
			return p.waitError(ctx, start)
		}
		p.inMem.Add(cost)
	}
	j := &job{ctx: ctx, fn: fn, cost: cost, done: make(chan struct{})}
	select {
	case p.jobs <- j:
		leaveQueue()
	case <-qctx.Done():
		leaveQueue()
		p.release(cost)
		return p.waitError(ctx, start)
	case <-p.quit:
		leaveQueue()
		p.release(cost)
		return p.overloaded("the service is shutting down")
	}
	if p.cfg.OnQueueWait != nil {
		p.cfg.OnQueueWait(ctx, time.Since(start))
	}
	deadline := time.NewTimer(p.cfg.JobTimeout)
	defer deadline.Stop()
	select {
	case <-j.done:
		return nil
	case <-deadline.C:
		return p.jobTimeout()
	case <-ctx.Done():
		return clientGone(ctx.Err(), true)
	}
}

func (p *Pool) waitError(ctx context.Context, start time.Time) error {
	if err := ctx.Err(); err != nil {
		return clientGone(err, false)
	}
	return p.overloaded(fmt.Sprintf("no worker came free within the queue timeout of %s (waited %s)",
		p.cfg.QueueTimeout, time.Since(start).Round(time.Millisecond)))
}

func (p *Pool) overloaded(why string) *Error {
	return Errorf(CodeOverloaded, "the service is overloaded: %s", why).
		WithHint("retry after the number of seconds in the Retry-After header, with backoff")
}

func (p *Pool) jobTimeout() *Error {
	return Errorf(CodeProcessingTimeout, "processing took longer than the job deadline of %s", p.cfg.JobTimeout).
		WithHint("ask for a smaller output or fewer operations (blur and sharpen with large sigma are slow), or send a smaller image")
}

// clientGone is the error of a request whose context ended: before a worker
// took its job, or once one had (running tells which).
func clientGone(err error, running bool) *Error {
	when := "before its job ran"
	if running {
		when = "while its job was running"
	}
	return Errorf(CodeRequestTimeout, "the request ended %s (%v)", when, err).Wrap(err).
		WithHint("the client closed the connection or its deadline passed; retry with a longer client timeout")
}

// Close stops the workers once the jobs already handed to them finish. Jobs
// still waiting are refused with CodeOverloaded.
func (p *Pool) Close() {
	p.once.Do(func() { close(p.quit) })
	p.wg.Wait()
}

// Stats is a snapshot of a pool's state.
type Stats struct {
	Workers     int
	Busy        int
	Queued      int
	QueueSize   int
	MemoryInUse int64
	MemoryLimit int64
}

// Stats returns the pool's current state.
func (p *Pool) Stats() Stats {
	return Stats{
		Workers: p.cfg.Workers, Busy: int(p.busy.Load()), Queued: int(p.queued.Load()),
		QueueSize: p.cfg.QueueSize, MemoryInUse: p.inMem.Load(), MemoryLimit: p.cfg.MemoryBudget,
	}
}

// Saturated reports whether a new job would be refused now.
func (p *Pool) Saturated() bool { return p.queued.Load() >= int64(p.cfg.QueueSize) }

// Config returns the pool's configuration with defaults applied.
func (p *Pool) Config() PoolConfig { return p.cfg }
