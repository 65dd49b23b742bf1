package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

func TestRun(t *testing.T) {
	r := startRun(t, nil)
	for _, u := range []string{r.base + "/healthz", r.base + "/readyz", r.admin + "/healthz", r.admin + "/readyz"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", u, resp.StatusCode)
		}
	}

	src := encodeImage(t, quadrants(64, 48), "png")
	resp, err := http.Post(r.base+"/v1/process?width=32&format=jpeg", "image/png", bytes.NewReader(src))
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

	if err := r.stop(); err != nil {
		t.Errorf("run returned %v after cancel, want nil", err)
	}
	if _, err := http.Get(r.base + "/healthz"); err == nil {
		t.Errorf("the public port still answers after run returned")
	}
	if out := r.log.String(); !strings.Contains(out, `"listening"`) || !strings.Contains(out, r.addr) || !strings.Contains(out, r.adminAddr) {
		t.Errorf("the start log does not name both listen addresses %s and %s:\n%s", r.addr, r.adminAddr, out)
	}
}

func TestRun_envConfig(t *testing.T) {
	// The listen addresses come from the environment only.
	r := startRun(t, map[string]string{"IMGSVC_ADDR": "127.0.0.1:0", "IMGSVC_ADMIN_ADDR": "127.0.0.1:0", "IMGSVC_LOG_FORMAT": "text"})
	for _, a := range []string{r.addr, r.adminAddr} {
		if !strings.HasPrefix(a, "127.0.0.1:") {
			t.Errorf("listening on %q, want 127.0.0.1 from IMGSVC_ADDR and IMGSVC_ADMIN_ADDR (not the defaults :8080, :9090)", a)
		}
	}
	ok := false
	if resp, err := http.Get(r.admin + "/healthz"); err == nil {
		resp.Body.Close()
		ok = resp.StatusCode == http.StatusOK
	}
	if !ok {
		t.Fatalf("no /healthz on IMGSVC_ADMIN_ADDR %s", r.adminAddr)
	}
	if err := r.stop(); err != nil {
		t.Errorf("run returned %v, want nil", err)
	}
	if out := r.log.String(); !strings.Contains(out, "msg=listening") {
		t.Errorf("IMGSVC_LOG_FORMAT=text did not give text logs:\n%s", out)
	}
}

func TestRun_healthcheck(t *testing.T) {
	r := startRun(t, nil)
	noEnv := func(string) string { return "" }
	hc := func(getenv func(string) string, args ...string) error {
		var out bytes.Buffer
		return run(context.Background(), nil, append([]string{"healthcheck"}, args...), getenv, &out, &out)
	}
	if err := hc(noEnv, "-admin-addr", r.adminAddr); err != nil {
		t.Errorf("healthcheck -admin-addr %s = %v while up, want nil", r.adminAddr, err)
	}
	if err := hc(func(k string) string {
		if k == "IMGSVC_ADMIN_ADDR" {
			return r.adminAddr
		}
		return ""
	}); err != nil {
		t.Errorf("healthcheck with IMGSVC_ADMIN_ADDR=%s = %v while up, want nil", r.adminAddr, err)
	}
	if err := hc(noEnv, "-admin-addr", "", "-addr", r.addr); err != nil {
		t.Errorf("healthcheck with the admin listener off, -addr %s = %v, want nil (it asks the public port)", r.addr, err)
	}
	// ":port" (all interfaces) is asked on loopback.
	port := r.adminAddr[strings.LastIndex(r.adminAddr, ":"):]
	if err := hc(noEnv, "-admin-addr", port); err != nil {
		t.Errorf("healthcheck -admin-addr %s = %v while up, want nil", port, err)
	}

	if err := r.stop(); err != nil {
		t.Fatalf("run returned %v, want nil", err)
	}
	if err := hc(noEnv, "-admin-addr", r.adminAddr); err == nil {
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
	src := encodeImage(t, gradient(300, 300), "png")
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, r.base+"/v1/process?blur=20", pr)
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
	go func() { stopped <- r.stop() }()
	// The listener closes at once: new connections are refused.
	refused := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if resp, err := http.Get(r.base + "/healthz"); err != nil {
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

// TestRun_hurrySkipsDrainDelay: a second signal (hurry) during the drain
// delay ends it at once, and run still returns nil.
func TestRun_hurrySkipsDrainDelay(t *testing.T) {
	r := startRun(t, nil, "-drain-delay", "30s")
	stopped := make(chan error, 1)
	go func() { stopped <- r.stop() }()
	waitFor(t, "/readyz to fail while draining", func() bool {
		return doRequest(t, http.MethodGet, r.admin+"/readyz", nil, nil).status == http.StatusServiceUnavailable
	})
	r.hurry()
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("run returned %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("run did not return within 5 s of hurry (drain delay 30 s)")
	}
	if out := r.log.String(); !strings.Contains(out, "second signal: drain delay cut short") {
		t.Errorf("no log line says the drain delay was cut short:\n%s", out)
	}
}

// TestRun_hurryClosesInFlight: a second signal (hurry) during the shutdown
// grace closes connections at once instead of waiting for the request in
// flight, and run still returns nil.
func TestRun_hurryClosesInFlight(t *testing.T) {
	r := startRun(t, nil, "-shutdown-grace", "60s")
	conn, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A body that stops after 10 of its 1000 bytes keeps the request in flight.
	fmt.Fprint(conn, "POST /v1/process HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n0123456789")
	waitFor(t, "the request to be in flight", func() bool {
		r := doRequest(t, http.MethodGet, r.admin+"/metrics", nil, nil)
		return bytes.Contains(r.body, []byte("\nimgsvc_http_requests_in_flight 1\n"))
	})

	stopped := make(chan error, 1)
	go func() { stopped <- r.stop() }()
	waitFor(t, "the public listener to close", func() bool {
		c, err := net.Dial("tcp", r.addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case err := <-stopped:
		t.Fatalf("run returned %v while a request was in flight, before hurry", err)
	case <-time.After(100 * time.Millisecond):
	}

	r.hurry()
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("run returned %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("run did not return within 5 s of hurry (shutdown grace 60 s)")
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := conn.Read(make([]byte, 512)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the in-flight connection is still open after hurry (read %d bytes, %v)", n, err)
	}
	if out := r.log.String(); !strings.Contains(out, "second signal: closing connections with requests still in flight") {
		t.Errorf("no log line says in-flight requests were cut off:\n%s", out)
	}
}

// TestShutdownSignals_secondSIGTERM: the binary, told to drain for 30 s,
// exits within seconds, with status 0, on a second SIGTERM.
func TestShutdownSignals_secondSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	b := startBinary(t, "-drain-delay", "30s")
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "/readyz to fail while draining", func() bool {
		return doRequest(t, http.MethodGet, b.admin+"/readyz", nil, nil).status == http.StatusServiceUnavailable
	})
	start := time.Now()
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.exited:
	case <-time.After(5 * time.Second):
		t.Fatalf("still running 5 s after the second SIGTERM (drain delay 30 s)")
	}
	if code := b.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d after two SIGTERMs, want 0", code)
	}
	if out := b.log.String(); !strings.Contains(out, "second signal: drain delay cut short") {
		t.Errorf("no log line says the drain delay was cut short:\n%s", out)
	}
	t.Logf("exited %s after the second SIGTERM", time.Since(start).Round(time.Millisecond))
}

func TestRun_subcommandsAndErrors(t *testing.T) {
	noEnv := func(string) string { return "" }
	t.Run("version", func(t *testing.T) {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), nil, []string{"version"}, noEnv, &out, &errOut); err != nil {
			t.Fatalf("version = %v", err)
		}
		if !strings.HasPrefix(out.String(), "imgsvc ") {
			t.Errorf("version printed %q, want it to start with \"imgsvc \"", out.String())
		}
	})
	t.Run("help", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), nil, []string{"-h"}, noEnv, &out, &errOut)
		if !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("-h = %v, want flag.ErrHelp (main exits 0)", err)
		}
		if help := out.String() + errOut.String(); !strings.Contains(help, "IMGSVC_ADDR") {
			t.Errorf("-h printed no flag list:\n%s", help)
		}
	})
	t.Run("bad flag", func(t *testing.T) {
		var out bytes.Buffer
		if err := run(context.Background(), nil, []string{"-workers", "x"}, noEnv, &out, &out); err == nil {
			t.Errorf("run -workers x = nil, want an error")
		}
	})
	t.Run("address in use", func(t *testing.T) {
		r := startRun(t, nil)
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := run(ctx, nil, []string{"-addr", r.addr, "-admin-addr", "127.0.0.1:0"}, noEnv, &out, &out)
		if err == nil || !strings.Contains(err.Error(), "-addr") || !strings.Contains(err.Error(), r.addr) {
			t.Errorf("run on a busy -addr = %v, want an error naming -addr and %s", err, r.addr)
		}
		err = run(ctx, nil, []string{"-addr", "127.0.0.1:0", "-admin-addr", r.adminAddr}, noEnv, &out, &out)
		if err == nil || !strings.Contains(err.Error(), "-admin-addr") {
			t.Errorf("run on a busy -admin-addr = %v, want an error naming -admin-addr", err)
		}
	})
}

// TestApp_panicIsInternalError: a panic in a handler is a 500 internal
// problem that leaks nothing, and the service goes on serving.
func TestApp_panicIsInternalError(t *testing.T) {
	a, logs := newTestApp(t)
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
