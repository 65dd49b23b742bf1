package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"image"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// runInstance is run started in a goroutine on free loopback ports.
type runInstance struct {
	addr, admin string // host:port
	cancel      context.CancelFunc
	done        chan error
	out         *syncBuffer
}

// startRun starts run with the listen addresses and extra args, and waits
// until /healthz answers on the public port.
func startRun(t *testing.T, env map[string]string, args ...string) *runInstance {
	t.Helper()
	r := &runInstance{addr: freeAddr(t), admin: freeAddr(t), done: make(chan error, 1), out: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	all := append([]string{"-addr", r.addr, "-admin-addr", r.admin}, args...)
	getenv := func(k string) string {
		if k == "GOMEMLIMIT" {
			return "off" // leave this process's memory limit alone
		}
		return env[k]
	}
	go func() { r.done <- run(ctx, all, getenv, r.out, r.out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			t.Errorf("run did not return within 30 s of cleanup")
		}
		if t.Failed() {
			t.Logf("output of run:\n%s", r.out.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-r.done:
			r.done <- err
			t.Fatalf("run returned early: %v\n%s", err, r.out.String())
		default:
		}
		if resp, err := http.Get("http://" + r.addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("/healthz did not answer within 10 s\n%s", r.out.String())
	return nil
}

// stop cancels run's context and returns what run returned.
func (r *runInstance) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("run did not return within 30 s of cancel")
		return nil
	}
}

func TestRun(t *testing.T) {
	r := startRun(t, nil)
	for _, u := range []string{"http://" + r.addr + "/healthz", "http://" + r.addr + "/readyz", "http://" + r.admin + "/healthz", "http://" + r.admin + "/readyz"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", u, resp.StatusCode)
		}
	}

	src := e2eEncodePNG(t, e2eQuadrants(64, 48))
	resp, err := http.Post("http://"+r.addr+"/v1/process?width=32&format=jpeg", "image/png", bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("POST /v1/process = %d %s, want 200 image/jpeg; body %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	img, _, err := image.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 32 || b.Dy() != 24 {
		t.Errorf("output is %v, want 32×24", b)
	}

	if err := r.stop(t); err != nil {
		t.Errorf("run returned %v after cancel, want nil", err)
	}
	if _, err := http.Get("http://" + r.addr + "/healthz"); err == nil {
		t.Errorf("the public port still answers after run returned")
	}
	if out := r.out.String(); !strings.Contains(out, `"listening"`) || !strings.Contains(out, r.addr) || !strings.Contains(out, r.admin) {
		t.Errorf("the start log does not name both listen addresses %s and %s:\n%s", r.addr, r.admin, out)
	}
}

func TestRun_envConfig(t *testing.T) {
	// The listen addresses come from the environment only.
	addr, admin := freeAddr(t), freeAddr(t)
	r := &runInstance{addr: addr, admin: admin, done: make(chan error, 1), out: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	env := map[string]string{"IMGSVC_ADDR": addr, "IMGSVC_ADMIN_ADDR": admin, "IMGSVC_LOG_FORMAT": "text", "GOMEMLIMIT": "off"}
	go func() { r.done <- run(ctx, nil, func(k string) string { return env[k] }, r.out, r.out) }()
	defer cancel()
	ok := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !ok; time.Sleep(10 * time.Millisecond) {
		if resp, err := http.Get("http://" + admin + "/healthz"); err == nil {
			resp.Body.Close()
			ok = resp.StatusCode == http.StatusOK
		}
	}
	if !ok {
		t.Fatalf("no /healthz on IMGSVC_ADMIN_ADDR %s\n%s", admin, r.out.String())
	}
	if err := r.stop(t); err != nil {
		t.Errorf("run returned %v, want nil", err)
	}
	if out := r.out.String(); !strings.Contains(out, "msg=listening") {
		t.Errorf("IMGSVC_LOG_FORMAT=text did not give text logs:\n%s", out)
	}
}

func TestRun_healthcheck(t *testing.T) {
	r := startRun(t, nil)
	noEnv := func(string) string { return "" }
	hc := func(getenv func(string) string, args ...string) error {
		var out bytes.Buffer
		return run(context.Background(), append([]string{"healthcheck"}, args...), getenv, &out, &out)
	}
	if err := hc(noEnv, "-admin-addr", r.admin); err != nil {
		t.Errorf("healthcheck -admin-addr %s = %v while up, want nil", r.admin, err)
	}
	if err := hc(func(k string) string {
		if k == "IMGSVC_ADMIN_ADDR" {
			return r.admin
		}
		return ""
	}); err != nil {
		t.Errorf("healthcheck with IMGSVC_ADMIN_ADDR=%s = %v while up, want nil", r.admin, err)
	}
	if err := hc(noEnv, "-admin-addr", "", "-addr", r.addr); err != nil {
		t.Errorf("healthcheck with the admin listener off, -addr %s = %v, want nil (it asks the public port)", r.addr, err)
	}
	// ":port" (all interfaces) is asked on loopback.
	port := r.admin[strings.LastIndex(r.admin, ":"):]
	if err := hc(noEnv, "-admin-addr", port); err != nil {
		t.Errorf("healthcheck -admin-addr %s = %v while up, want nil", port, err)
	}

	if err := r.stop(t); err != nil {
		t.Fatalf("run returned %v, want nil", err)
	}
	if err := hc(noEnv, "-admin-addr", r.admin); err == nil {
		t.Errorf("healthcheck = nil after the instance stopped, want an error")
	}
	if err := hc(noEnv, "-admin-addr", "nonsense"); err == nil {
		t.Errorf("healthcheck -admin-addr nonsense = nil, want an error")
	}
}

// TestRun_shutdownFinishesInFlight cancels run's context (what SIGTERM
// does) while a request is in flight: its body still arriving, then a slow
// blur. The request must finish with 200 and run must return nil.
func TestRun_shutdownFinishesInFlight(t *testing.T) {
	r := startRun(t, nil, "-shutdown-grace", "60s")
	src := e2eEncodePNG(t, e2eGradient(300, 300))
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, "http://"+r.addr+"/v1/process?blur=20", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(src))
	req.Header.Set("Content-Type", "image/png")
	type result struct {
		resp *http.Response
		body []byte
		err  error
	}
	resc := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			resc <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		resc <- result{resp, b, err}
	}()
	half := len(src) / 2
	if _, err := pw.Write(src[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the handler is reading the body

	stopped := make(chan error, 1)
	go func() { stopped <- r.stop(t) }()
	// The listener closes at once: new connections are refused.
	refused := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if resp, err := http.Get("http://" + r.addr + "/healthz"); err != nil {
			refused = true
			break
		} else {
			resp.Body.Close()
		}
	}
	if !refused {
		t.Errorf("the public port still accepts connections 5 s after cancel")
	}
	select {
	case err := <-stopped:
		t.Fatalf("run returned %v while a request was in flight", err)
	default:
	}

	if _, err := pw.Write(src[half:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	res := <-resc
	if res.err != nil {
		t.Fatalf("in-flight request failed: %v", res.err)
	}
	if res.resp.StatusCode != http.StatusOK {
		t.Fatalf("in-flight request = %d, want 200; body %.300s", res.resp.StatusCode, res.body)
	}
	if img, _, err := image.Decode(bytes.NewReader(res.body)); err != nil || img.Bounds().Dx() != 300 {
		t.Errorf("in-flight answer does not decode to a 300 px wide image: %v", err)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("run returned %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("run did not return after the in-flight request finished")
	}
}

func TestRun_subcommandsAndErrors(t *testing.T) {
	noEnv := func(string) string { return "" }
	t.Run("version", func(t *testing.T) {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{"version"}, noEnv, &out, &errOut); err != nil {
			t.Fatalf("version = %v", err)
		}
		if !strings.HasPrefix(out.String(), "imgsvc ") {
			t.Errorf("version printed %q, want it to start with \"imgsvc \"", out.String())
		}
	})
	t.Run("help", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"-h"}, noEnv, &out, &errOut)
		if !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("-h = %v, want flag.ErrHelp (main exits 0)", err)
		}
		if help := out.String() + errOut.String(); !strings.Contains(help, "IMGSVC_ADDR") {
			t.Errorf("-h printed no flag list:\n%s", help)
		}
	})
	t.Run("bad flag", func(t *testing.T) {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"-workers", "x"}, noEnv, &out, &out); err == nil {
			t.Errorf("run -workers x = nil, want an error")
		}
	})
	t.Run("address in use", func(t *testing.T) {
		r := startRun(t, nil)
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := run(ctx, []string{"-addr", r.addr, "-admin-addr", freeAddr(t)}, noEnv, &out, &out)
		if err == nil || !strings.Contains(err.Error(), "-addr") || !strings.Contains(err.Error(), r.addr) {
			t.Errorf("run on a busy -addr = %v, want an error naming -addr and %s", err, r.addr)
		}
		err = run(ctx, []string{"-addr", freeAddr(t), "-admin-addr", r.admin}, noEnv, &out, &out)
		if err == nil || !strings.Contains(err.Error(), "-admin-addr") {
			t.Errorf("run on a busy -admin-addr = %v, want an error naming -admin-addr", err)
		}
	})
}

// TestApp_panicIsInternalError: a panic in a handler is a 500 internal
// problem that leaks nothing, and the service goes on serving.
func TestApp_panicIsInternalError(t *testing.T) {
	cfg, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	a := newApp(cfg, func(string) string { return "" }, slog.New(slog.NewJSONHandler(&logs, nil)))
	defer a.pool.Close()
	a.public.GET("/test-panic", func(echo.Context) error { panic("secret internals") })

	rec := httptest.NewRecorder()
	a.public.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/test-panic", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), `"code":"internal"`) {
		t.Fatalf("panic answered %d %s, want 500 internal", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("the answer leaks the panic value: %s", rec.Body)
	}
	if !strings.Contains(logs.String(), "secret internals") {
		t.Errorf("the panic is not in the logs:\n%s", logs.String())
	}
	rec = httptest.NewRecorder()
	a.public.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("/healthz after the panic = %d", rec.Code)
	}
}
