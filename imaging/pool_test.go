package imaging

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// blockers starts n jobs that hold their worker until release is closed, and
// waits until all of them run.
func blockers(t *testing.T, p *Pool, n int, release <-chan struct{}) *sync.WaitGroup {
	t.Helper()
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			err := p.Do(context.Background(), 1, func(context.Context) {
				started.Done()
				<-release
			})
			if err != nil {
				t.Errorf("blocking job: %v", err)
			}
		}()
	}
	started.Wait()
	// A job runs before its Do has left the queue: wait for the books to settle.
	waitFor(t, "the blockers to leave the queue", func() bool { return p.Stats().Queued == 0 })
	return &done
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPool_Do_runsJobs(t *testing.T) {
	p := NewPool(PoolConfig{Workers: 2, QueueSize: 32})
	defer p.Close()
	var n atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Do(context.Background(), 1, func(context.Context) { n.Add(1) }); err != nil {
				t.Errorf("Do: %v", err)
			}
		}()
	}
	wg.Wait()
	if n.Load() != 20 {
		t.Errorf("ran %d jobs, want 20", n.Load())
	}
	if s := p.Stats(); s.Busy != 0 || s.Queued != 0 {
		t.Errorf("stats after the jobs = %+v, want idle", s)
	}
}

func TestPool_Do_overloadedAtOnce(t *testing.T) {
	p := NewPool(PoolConfig{Workers: 1, QueueSize: 1, QueueTimeout: time.Minute})
	defer p.Close()
	release := make(chan struct{})
	done := blockers(t, p, 1, release)

	queued := make(chan error, 1)
	go func() { queued <- p.Do(context.Background(), 1, func(context.Context) {}) }()
	waitFor(t, "a queued job", func() bool { return p.Stats().Queued == 1 })
	if !p.Saturated() {
		t.Error("Saturated() = false with a full queue")
	}

	start := time.Now()
	err := p.Do(context.Background(), 1, func(context.Context) { t.Error("an overloaded job ran") })
	if ErrorCode(err) != CodeOverloaded {
		t.Fatalf("Do on a full queue = %v, want overloaded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusal took %v; it must be immediate", d)
	}
	close(release)
	done.Wait()
	if err := <-queued; err != nil {
		t.Errorf("queued job: %v", err)
	}
}

func TestPool_Do_queueTimeout(t *testing.T) {
	p := NewPool(PoolConfig{Workers: 1, QueueSize: 4, QueueTimeout: 50 * time.Millisecond})
	defer p.Close()
	release := make(chan struct{})
	done := blockers(t, p, 1, release)
	err := p.Do(context.Background(), 1, func(context.Context) { t.Error("a timed-out job ran") })
	if ErrorCode(err) != CodeOverloaded {
		t.Fatalf("Do = %v, want overloaded after the queue timeout", err)
	}
	if s := p.Stats(); s.Queued != 0 {
		t.Errorf("queued = %d after the timeout, want 0", s.Queued)
	}
	close(release)
	done.Wait()
}

func TestPool_Do_cancelFreesPlace(t *testing.T) {
	p := NewPool(PoolConfig{Workers: 1, QueueSize: 1, QueueTimeout: time.Minute})
	defer p.Close()
	release := make(chan struct{})
	done := blockers(t, p, 1, release)

	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { res <- p.Do(ctx, 1, func(context.Context) { t.Error("a cancelled job ran") }) }()
	waitFor(t, "the queued job", func() bool { return p.Stats().Queued == 1 })
	cancel()
	if err := <-res; ErrorCode(err) != CodeRequestTimeout {
		t.Fatalf("cancelled Do = %v, want request_timeout", err)
	}
	// The place is free again: another job can queue instead of being refused.
	next := make(chan error, 1)
	go func() { next <- p.Do(context.Background(), 1, func(context.Context) {}) }()
	waitFor(t, "the next job to queue", func() bool { return p.Stats().Queued == 1 })
	close(release)
	done.Wait()
	if err := <-next; err != nil {
		t.Errorf("next job: %v", err)
	}
}

// TestPool_Do_clientGoneWhileRunning: a request that ends while its job runs
// is request_timeout too, but its detail says the job was running, not that
// it never ran; one that ends while queued says the job did not run.
func TestPool_Do_clientGoneWhileRunning(t *testing.T) {
	p := NewPool(PoolConfig{Workers: 1, QueueSize: 1, QueueTimeout: time.Minute})
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	started, hold := make(chan struct{}), make(chan struct{})
	res := make(chan error, 1)
	go func() {
		res <- p.Do(ctx, 1, func(context.Context) {
			close(started)
			<-hold // still running when Do returns
		})
	}()
	<-started
	cancel()
	err := <-res
	close(hold)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeRequestTimeout {
		t.Fatalf("Do cancelled while running = %v, want request_timeout", err)
	}
	if !strings.Contains(e.Detail, "while its job was running") || strings.Contains(e.Detail, "before its job ran") {
		t.Errorf("detail = %q, want it to say the job was running", e.Detail)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Do = %v, want it to wrap context.Canceled", err)
	}

	// Queued behind a running job, then cancelled: the job never ran.
	release := make(chan struct{})
	done := blockers(t, p, 1, release)
	qctx, qcancel := context.WithCancel(context.Background())
	queued := make(chan error, 1)
	go func() { queued <- p.Do(qctx, 1, func(context.Context) { t.Error("a cancelled job ran") }) }()
	waitFor(t, "the queued job", func() bool { return p.Stats().Queued == 1 })
	qcancel()
	err = <-queued
	if !errors.As(err, &e) || e.Code != CodeRequestTimeout || !strings.Contains(e.Detail, "before its job ran") {
		t.Errorf("Do cancelled while queued = %v, want request_timeout saying the job did not run", err)
	}
	close(release)
	done.Wait()
}

func TestPool_Do_jobTimeout(t *testing.T) {
	p := NewPool(PoolConfig{Workers: 1, JobTimeout: 20 * time.Millisecond})
	defer p.Close()
	var sawDeadline atomic.Bool
	err := p.Do(context.Background(), 1, func(ctx context.Context) {
		<-ctx.Done() // a job that honours its context
		sawDeadline.Store(errors.Is(ctx.Err(), context.DeadlineExceeded))
	})
	if ErrorCode(err) != CodeProcessingTimeout {
		t.Fatalf("Do = %v, want processing_timeout", err)
	}
	waitFor(t, "the worker to finish", func() bool { return p.Stats().Busy == 0 })
	if !sawDeadline.Load() {
		t.Error("the job's context did not carry the job deadline")
	}
}

func TestPool_Do_memoryAdmission(t *testing.T) {
	p := NewPool(PoolConfig{Workers: 4, QueueSize: 8, QueueTimeout: time.Minute, MemoryBudget: 100})
	defer p.Close()

	if err := p.Do(context.Background(), 101, func(context.Context) {}); ErrorCode(err) != CodeImageTooLarge {
		t.Fatalf("job over the whole budget = %v, want image_too_large", err)
	}

	release := make(chan struct{})
	started := make(chan struct{})
	go p.Do(context.Background(), 80, func(context.Context) { close(started); <-release })
	<-started
	if got := p.Stats().MemoryInUse; got != 80 {
		t.Errorf("memory in use = %d, want 80", got)
	}
	// 30 more does not fit next to 80 although workers are idle: it waits.
	ran := make(chan struct{})
	go p.Do(context.Background(), 30, func(context.Context) { close(ran) })
	select {
	case <-ran:
		t.Fatal("a job ran beyond the memory budget")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting job did not run once memory was released")
	}
	waitFor(t, "memory to be released", func() bool { return p.Stats().MemoryInUse == 0 })
}

func TestPool_Close(t *testing.T) {
	p := NewPool(PoolConfig{Workers: 1, QueueSize: 2, QueueTimeout: time.Minute})
	release := make(chan struct{})
	done := blockers(t, p, 1, release)
	waiting := make(chan error, 1)
	go func() { waiting <- p.Do(context.Background(), 1, func(context.Context) {}) }()
	waitFor(t, "the queued job", func() bool { return p.Stats().Queued == 1 })
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	if err := <-waiting; ErrorCode(err) != CodeOverloaded {
		t.Errorf("job waiting at Close = %v, want overloaded", err)
	}
	close(release) // the running job finishes; Close returns after it
	done.Wait()
	<-closed
}
