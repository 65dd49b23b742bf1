package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Tests start the service one way in process (startRun) and one way as a
// binary (startBinary). Both listen on 127.0.0.1:0 and learn the addresses
// actually bound from the service's "listening" log line, so no port is
// picked in advance and raced for.

// listeners is where a started service answers.
type listeners struct {
	addr, adminAddr string // host:port as bound; adminAddr is "" with the admin listener off
	base, admin     string // "http://" + addr and "http://" + adminAddr
}

// parseListening finds the "listening" line, JSON or text, in a service's
// log and returns the addresses it names.
func parseListening(log string) (listeners, bool) {
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var addr, admin string
		var m struct {
			Msg       string `json:"msg"`
			Addr      string `json:"addr"`
			AdminAddr string `json:"admin_addr"`
		}
		switch {
		case json.Unmarshal([]byte(line), &m) == nil && m.Msg == "listening":
			addr, admin = m.Addr, m.AdminAddr
		case strings.Contains(line, " msg=listening "):
			if f := textAddrRE.FindStringSubmatch(line); f != nil {
				addr = f[1]
			}
			if f := textAdminAddrRE.FindStringSubmatch(line); f != nil {
				admin = f[1]
			}
		}
		if addr == "" {
			continue
		}
		l := listeners{addr: addr, adminAddr: admin, base: "http://" + addr}
		if admin != "" {
			l.admin = "http://" + admin
		}
		return l, true
	}
	return listeners{}, false
}

var (
	textAddrRE      = regexp.MustCompile(` addr=(\S+)`)
	textAdminAddrRE = regexp.MustCompile(` admin_addr=(\S+)`)
)

// awaitHealthy waits up to 10 s for the "listening" line in log, then for
// /healthz on the public listener to answer 200. It gives up as soon as
// exited is closed.
func awaitHealthy(log *syncBuffer, exited <-chan struct{}) (listeners, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	var l listeners
	found := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case <-exited:
			return l, errors.New("it ended before /healthz answered")
		default:
		}
		if !found {
			l, found = parseListening(log.String())
			continue
		}
		if resp, err := client.Get(l.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return l, nil
			}
		}
	}
	if !found {
		return l, errors.New(`no "listening" log line within 10 s (a -log-level above info hides it)`)
	}
	return l, fmt.Errorf("%s/healthz did not answer 200 within 10 s", l.base)
}

// runInstance is run started in a goroutine by startRun.
type runInstance struct {
	listeners
	log       *syncBuffer // run's stdout and stderr
	cancel    context.CancelFunc
	hurryc    chan struct{}
	hurryOnce sync.Once
	exited    chan struct{} // closed when run has returned
	err       error         // what run returned, once exited is closed
}

// startRun starts run in a goroutine with env as its environment (plus
// GOMEMLIMIT=off, so the test process's memory limit stays as it is) and
// args after "-addr 127.0.0.1:0 -admin-addr 127.0.0.1:0" (each left out
// when env sets IMGSVC_ADDR or IMGSVC_ADMIN_ADDR), and waits until /healthz
// answers. The cleanup cancels run's context and expects nil.
func startRun(t *testing.T, env map[string]string, args ...string) *runInstance {
	t.Helper()
	var all []string
	if env["IMGSVC_ADDR"] == "" {
		all = append(all, "-addr", "127.0.0.1:0")
	}
	if env["IMGSVC_ADMIN_ADDR"] == "" {
		all = append(all, "-admin-addr", "127.0.0.1:0")
	}
	all = append(all, args...)
	getenv := func(k string) string {
		if k == "GOMEMLIMIT" {
			return "off"
		}
		return env[k]
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runInstance{log: &syncBuffer{}, cancel: cancel, hurryc: make(chan struct{}), exited: make(chan struct{})}
	go func() {
		r.err = run(ctx, r.hurryc, all, getenv, r.log, r.log)
		close(r.exited)
	}()
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("run %q: %v, want nil after cancel", all, err)
		}
		if t.Failed() {
			t.Logf("output of run %q:\n%s", all, r.log.String())
		}
	})
	l, err := awaitHealthy(r.log, r.exited)
	if err != nil {
		select {
		case <-r.exited:
			t.Fatalf("run %q: %v: run returned %v", all, err, r.err)
		default:
			t.Fatalf("run %q: %v", all, err)
		}
	}
	r.listeners = l
	return r
}

// stop cancels run's context (what the first SIGTERM does) and returns what
// run returned, or an error if it did not return within 30 s.
func (r *runInstance) stop() error {
	r.cancel()
	select {
	case <-r.exited:
		return r.err
	case <-time.After(30 * time.Second):
		return errors.New("run did not return within 30 s of cancel")
	}
}

// hurry does what a second SIGTERM does.
func (r *runInstance) hurry() { r.hurryOnce.Do(func() { close(r.hurryc) }) }

// binInstance is the imgsvc binary started by startBinary.
type binInstance struct {
	listeners
	log    *syncBuffer // its stdout and stderr
	cmd    *exec.Cmd
	exited chan struct{} // closed when it has exited; cmd.ProcessState is then set
}

// testBinary is ./cmd/imgsvc built once per test process; TestMain removes it.
var testBinary struct {
	once      sync.Once
	dir, path string
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testBinary.dir != "" {
		os.RemoveAll(testBinary.dir)
	}
	os.Exit(code)
}

// buildBinary builds ./cmd/imgsvc, the first time it is called, and returns its path.
func buildBinary(t testing.TB) string {
	t.Helper()
	b := &testBinary
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "imgsvc-test-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "imgsvc")
		if out, err := exec.Command("go", "build", "-o", b.path, ".").CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// startBinary starts the imgsvc binary with args after "-addr 127.0.0.1:0
// -admin-addr 127.0.0.1:0", the test's environment plus GOMEMLIMIT=off,
// and waits until /healthz answers. The cleanup sends SIGTERM and expects
// exit status 0.
func startBinary(t *testing.T, args ...string) *binInstance {
	t.Helper()
	all := append([]string{"-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0"}, args...)
	b := &binInstance{log: &syncBuffer{}, exited: make(chan struct{})}
	b.cmd = exec.Command(buildBinary(t), all...)
	b.cmd.Stdout, b.cmd.Stderr = b.log, b.log
	b.cmd.Env = append(os.Environ(), "GOMEMLIMIT=off")
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start imgsvc: %v", err)
	}
	go func() {
		b.cmd.Wait()
		close(b.exited)
	}()
	t.Cleanup(func() {
		if err := b.stop(); err != nil {
			t.Errorf("imgsvc %q: %v", all, err)
		}
		if t.Failed() {
			t.Logf("output of imgsvc %q:\n%s", all, b.log.String())
		}
	})
	l, err := awaitHealthy(b.log, b.exited)
	if err != nil {
		select {
		case <-b.exited:
			t.Fatalf("imgsvc %q: %v: %v", all, err, b.cmd.ProcessState)
		default:
			t.Fatalf("imgsvc %q: %v", all, err)
		}
	}
	b.listeners = l
	return b
}

// stop sends SIGTERM unless the process has exited already, waits up to
// 15 s for it (then kills it), and returns an error unless it exited with
// status 0.
func (b *binInstance) stop() error {
	select {
	case <-b.exited:
	default:
		b.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-b.exited:
	case <-time.After(15 * time.Second):
		b.cmd.Process.Kill()
		<-b.exited
		return errors.New("it did not exit within 15 s of SIGTERM")
	}
	if code := b.cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("it ended with %v, want exit status 0", b.cmd.ProcessState)
	}
	return nil
}

// newTestApp wires the app for args without listening: tests call its
// handlers directly and hold its pool. Its JSON log goes to the returned buffer.
func newTestApp(t *testing.T, args ...string) (*app, *syncBuffer) {
	t.Helper()
	getenv := func(k string) string {
		if k == "GOMEMLIMIT" {
			return "off" // leave this process's memory limit alone
		}
		return ""
	}
	cfg, err := parseConfig(args, getenv, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig(%q): %v", args, err)
	}
	logs := &syncBuffer{}
	logger, err := newLogger(cfg, logs)
	if err != nil {
		t.Fatal(err)
	}
	a := newApp(cfg, getenv, logger)
	t.Cleanup(a.pool.Close)
	return a, logs
}

// waitFor waits up to 5 s for cond to hold.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logLines parses a JSON log, one object a line.
func logLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// syncBuffer collects a process's or run's output, written from several
// goroutines, for failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ---- requests and answers --------------------------------------------------

// response is an HTTP answer as the tests look at it.
type response struct {
	status int
	header http.Header
	body   []byte
}

// doRequest sends one request with the default client and reads the whole answer.
func doRequest(t *testing.T, method, url string, header map[string]string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// ---- images, built in code ---------------------------------------------------

var (
	red    = color.NRGBA{255, 0, 0, 255}
	green  = color.NRGBA{0, 255, 0, 255}
	blue   = color.NRGBA{0, 0, 255, 255}
	yellow = color.NRGBA{255, 255, 0, 255}
)

// quadrants is a w×h image whose quadrants are red (top left), green (top
// right), blue (bottom left) and yellow (bottom right), so flips and
// rotations can be told apart by looking at the corners.
func quadrants(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := red
			switch {
			case x >= w/2 && y < h/2:
				c = green
			case x < w/2 && y >= h/2:
				c = blue
			case x >= w/2 && y >= h/2:
				c = yellow
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// gradient is a smooth w×h image: small as JPEG or PNG at any size.
func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	return img
}

// encodeImage encodes img as format "png", or "jpeg" at quality 90.
func encodeImage(t testing.TB, img image.Image, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
	default:
		err = fmt.Errorf("encodeImage: no encoder for %q", format)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// animatedGIF is a w×h GIF of n frames in black, white and red.
func animatedGIF(t testing.TB, w, h, n int) []byte {
	t.Helper()
	pal := color.Palette{color.Black, color.White, color.NRGBA{255, 0, 0, 255}}
	a := &gif.GIF{}
	for i := range n {
		fr := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		for p := range fr.Pix {
			fr.Pix[p] = uint8((p + i) % 3)
		}
		a.Image = append(a.Image, fr)
		a.Delay = append(a.Delay, 10)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, a); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
