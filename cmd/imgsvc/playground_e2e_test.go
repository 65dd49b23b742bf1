package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The playground in a real browser: headless Chromium driven over the
// DevTools protocol. It proves what a handler test cannot: the page runs
// under its Content-Security-Policy without a single violation, builds its
// form from the OpenAPI document, uploads a file, shows the result and the
// problem of a failed call, and sends the API key it is given.

var playgroundScreenshot = flag.String("playground-screenshot", "",
	"write a PNG screenshot of the playground with a processed result to this file (e.g. ../../docs/playground.png)")

const playgroundKey = "playground-key-0123456789"

// chromiumPath finds Chromium, or skips the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("Chromium not found: install Debian's chromium package (apt-get install chromium) to run the playground's browser test")
	return ""
}

// browserConsole collects what the page writes to the console, CSP
// violations and uncaught exceptions included.
type browserConsole struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

// problems lists the errors, exceptions and CSP violations, but for the
// failed calls the test made on purpose (answered with one of statuses).
func (c *browserConsole) problems(statuses ...int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
next:
	for _, m := range c.msgs {
		for _, st := range statuses {
			if strings.Contains(m.Text, fmt.Sprintf("Failed to load resource: the server responded with a status of %d ", st)) {
				continue next
			}
		}
		if m.Type == chromedp.ConsoleError || m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
			out = append(out, m.String())
		}
	}
	return out
}

// newTab opens a tab in the browser of parent and collects its console.
func newTab(t *testing.T, parent context.Context) (context.Context, *browserConsole) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent)
	t.Cleanup(cancel)
	con := &browserConsole{}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			con.mu.Lock()
			con.msgs = append(con.msgs, m)
			con.mu.Unlock()
		}
	}()
	return ctx, con
}

// do runs steps with a deadline, so a page that never gets there fails the
// test instead of hanging it.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("status") ? document.getElementById("status").textContent : document.title`))
		t.Fatalf("%s: %v (the page's status line: %q)", what, err, status)
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	return eval[string](t, ctx, `document.getElementById(`+jsString(id)+`).textContent`)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// state waits for the status line's state.
func state(s string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(`#status[data-state="` + s + `"]`))
}

// setOption types value into an option's field, replacing what was there.
func setOption(name, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](`document.getElementById(`+jsString("opt-"+name)+`).value = ""`),
		chromedp.SendKeys(chromedp.ID("opt-"+name), value),
	)
}

// chooseOption picks value in an option's list, as a user does.
func chooseOption(name, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => {
		const el = document.getElementById(` + jsString("opt-"+name) + `);
		el.value = ` + jsString(value) + `;
		if (el.value !== ` + jsString(value) + `) throw new Error("no choice " + ` + jsString(value) + `);
		el.dispatchEvent(new Event("change", {bubbles: true}));
	})()`)
}

func TestPlayground_browser(t *testing.T) {
	chrome := chromiumPath(t)
	dir := t.TempDir()
	photo := filepath.Join(dir, "photo.png")
	if err := os.WriteFile(photo, encodeImage(t, gradient(400, 300), "png"), 0o644); err != nil {
		t.Fatal(err)
	}

	open := startRun(t, nil)
	keyed := startRun(t, map[string]string{"IMGSVC_API_KEYS": playgroundKey}, "-auth-exempt", "/healthz")

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.WindowSize(1280, 1000),
		chromedp.Flag("disable-gpu", true))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil { // starts the browser, with no deadline
		t.Fatalf("start %s: %v", chrome, err)
	}

	t.Run("process", func(t *testing.T) {
		ctx, con := newTab(t, browser)
		do(t, ctx, "load the page and its options",
			chromedp.Navigate(open.base+"/"),
			chromedp.WaitVisible(chromedp.ID("opt-width")),
			chromedp.SetUploadFiles(chromedp.ID("file"), []string{photo}),
			state("ready"),
		)
		if got := text(t, ctx, "original-meta"); !strings.Contains(got, "400 × 300 px") {
			t.Errorf("original: %q, want its size 400 × 300 px", got)
		}
		do(t, ctx, "process with width=120", setOption("width", "120"), chromedp.Click(chromedp.ID("run")), state("done"))
		if w := eval[int](t, ctx, `document.getElementById("result-img").naturalWidth`); w != 120 {
			t.Errorf("the result image is %d px wide, want 120", w)
		}
		if got := text(t, ctx, "result-meta"); !strings.Contains(got, "120 × 90 px") || !strings.Contains(got, "image/png") || !strings.Contains(got, " ms") {
			t.Errorf("result: %q, want 120 × 90 px, image/png and the time taken", got)
		}
		curl := text(t, ctx, "curl")
		for _, want := range []string{"width=120", "--data-binary @photo.png", "-H 'Content-Type: image/png'", "'" + open.base + "/v1/process?width=120'", "-o result.png"} {
			if !strings.Contains(curl, want) {
				t.Errorf("curl snippet lacks %q:\n%s", want, curl)
			}
		}
		if strings.Contains(curl, "Authorization") {
			t.Errorf("curl snippet has an Authorization header, but no key was typed:\n%s", curl)
		}
		py := text(t, ctx, "python")
		for _, want := range []string{`params={"width": 120}`, `open("photo.png", "rb")`, `"Content-Type": "image/png"`, `requests.post(`} {
			if !strings.Contains(py, want) {
				t.Errorf("Python snippet lacks %q:\n%s", want, py)
			}
		}
		// The copy button puts the snippet on the clipboard.
		for _, perm := range []string{"clipboard-read", "clipboard-write"} {
			if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
				Permission: &cdpbrowser.PermissionDescriptor{Name: perm}, Setting: cdpbrowser.PermissionSettingGranted, Origin: open.base,
			}); err != nil {
				t.Fatalf("grant %s: %v", perm, err)
			}
		}
		do(t, ctx, "copy the curl command",
			chromedp.Click(chromedp.CSS(`button[data-copy="curl"]`)),
			chromedp.Poll[chromedp.Void](`document.querySelector('button[data-copy="curl"]').textContent === "Copied"`))
		clip, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
		if err != nil || clip != curl {
			t.Errorf("clipboard after Copy: %q (%v), want the curl command %q", clip, err, curl)
		}
		// The snippets are the call: run them for real where the tools are.
		runSnippets(t, dir, curl, py, nil, 120)

		// A failing call shows the service's problem document.
		do(t, ctx, "process with a crop outside the image",
			setOption("crop", "0,0,9999,9999"), chromedp.Click(chromedp.ID("run")), state("error"),
			chromedp.WaitVisible(chromedp.ID("problem-json")))
		var p struct {
			Status                    int
			Code, Field, Detail, Hint string
		}
		if err := json.Unmarshal([]byte(text(t, ctx, "problem-json")), &p); err != nil {
			t.Fatalf("the problem shown is not JSON: %v", err)
		}
		if p.Status != 400 || p.Code != "invalid_option" || p.Field != "crop" || p.Detail == "" || p.Hint == "" {
			t.Errorf("problem shown: %+v, want 400 invalid_option on crop with a detail and a hint", p)
		}
		if got := text(t, ctx, "status"); !strings.Contains(got, "400 invalid_option") {
			t.Errorf("status line: %q, want it to name 400 invalid_option", got)
		}
		if hidden := eval[bool](t, ctx, `document.getElementById("result-img").hidden`); !hidden {
			t.Errorf("the previous result is still shown after a failed call")
		}
		if c := text(t, ctx, "curl"); !strings.Contains(c, "crop=0,0,9999,9999") {
			t.Errorf("curl snippet lacks the crop:\n%s", c)
		}
		for _, m := range con.problems(400) {
			t.Errorf("console: %s", m)
		}

		if *playgroundScreenshot != "" {
			screenshot(t, browser, dir, *playgroundScreenshot)
		}
	})

	t.Run("api key", func(t *testing.T) {
		ctx, con := newTab(t, browser)
		// The page loads without a key, even when only /healthz is exempt; its
		// options (the OpenAPI document) need the key here.
		do(t, ctx, "load the page",
			chromedp.Navigate(keyed.base+"/"),
			chromedp.Poll[chromedp.Void](`document.getElementById("options-status").textContent.includes("401 unauthorized")`),
			chromedp.SetUploadFiles(chromedp.ID("file"), []string{photo}),
			state("ready"),
			chromedp.Click(chromedp.ID("run")), state("error"),
		)
		if got := text(t, ctx, "problem-json"); !strings.Contains(got, `"code": "unauthorized"`) {
			t.Errorf("without a key, the problem shown is %s, want unauthorized", got)
		}
		do(t, ctx, "type the key; the options load",
			chromedp.SendKeys(chromedp.ID("key"), playgroundKey),
			chromedp.Blur(chromedp.ID("key")),
			chromedp.WaitVisible(chromedp.ID("opt-width")),
			// Enter in a field runs the form, as a keyboard user expects.
			setOption("width", "64"), chromedp.SendKeys(chromedp.ID("opt-width"), kb.Enter), state("done"),
		)
		if w := eval[int](t, ctx, `document.getElementById("result-img").naturalWidth`); w != 64 {
			t.Errorf("with the key, the result image is %d px wide, want 64", w)
		}
		curl := text(t, ctx, "curl")
		if !strings.Contains(curl, `-H "Authorization: Bearer $IMGSVC_API_KEY"`) || !strings.Contains(curl, "width=64") {
			t.Errorf("curl snippet lacks the key header or the width:\n%s", curl)
		}
		py := text(t, ctx, "python")
		if !strings.Contains(py, `"Authorization": "Bearer " + os.environ["IMGSVC_API_KEY"]`) || !strings.Contains(py, "import os") {
			t.Errorf("Python snippet lacks the key header:\n%s", py)
		}
		if strings.Contains(curl+py, playgroundKey) {
			t.Errorf("a snippet shows the key itself")
		}
		runSnippets(t, dir, curl, py, []string{"IMGSVC_API_KEY=" + playgroundKey}, 64)
		for _, m := range con.problems(401) { // the calls made without the key
			t.Errorf("console: %s", m)
		}
	})
}

// runSnippets runs the page's curl command and Python code in dir, where
// the tools are, with env added to the environment, and checks each wrote
// result.png, width px wide.
func runSnippets(t *testing.T, dir, curl, py string, env []string, width int) {
	t.Helper()
	run := func(what string, cmd *exec.Cmd) {
		t.Helper()
		out := filepath.Join(dir, "result.png")
		os.Remove(out)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("the page's %s failed: %v\n%s", what, err, b)
		} else if cfg, _, err := image.DecodeConfig(mustOpen(t, out)); err != nil || cfg.Width != width {
			t.Errorf("the page's %s wrote a %d px wide image (%v), want %d", what, cfg.Width, err, width)
		}
	}
	if _, err := exec.LookPath("curl"); err == nil {
		run("curl command", exec.Command("sh", "-c", curl))
	}
	if exec.Command("python3", "-c", "import requests").Run() == nil {
		run("Python code", exec.Command("python3", "-c", py))
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// screenshot processes a picture with a few options and writes a PNG of
// the whole page to path. The service listens on localhost:8080 when that
// port is free, so the snippets show the README's address.
func screenshot(t *testing.T, browser context.Context, dir, path string) {
	t.Helper()
	pic := filepath.Join(dir, "landscape.jpg")
	if err := os.WriteFile(pic, encodeImage(t, landscape(960, 640), "jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	if ln, err := net.Listen("tcp", "127.0.0.1:8080"); err == nil {
		ln.Close()
		env["IMGSVC_ADDR"] = "127.0.0.1:8080"
	}
	srv := startRun(t, env)
	base := strings.Replace(srv.base, "127.0.0.1", "localhost", 1)
	ctx, con := newTab(t, browser)
	do(t, ctx, "process the picture for the screenshot",
		chromedp.EmulateViewport(1360, 1000),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("opt-width")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{pic}),
		state("ready"),
		setOption("width", "480"), setOption("height", "320"),
		chooseOption("fit", "cover"),
		setOption("sharpen", "0.8"),
		chooseOption("format", "webp"),
		setOption("quality", "75"),
		chromedp.Click(chromedp.ID("run")), state("done"),
	)
	for _, m := range con.problems() {
		t.Errorf("console: %s", m)
	}
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", path, len(png))
}

// landscape is a w×h picture made in code: a sky at dusk, a sun, two
// ranges of hills and a lake that mirrors them.
func landscape(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	horizon := h * 62 / 100
	mix := func(a, b color.NRGBA, f float64) color.NRGBA {
		f = math.Max(0, math.Min(1, f))
		l := func(x, y uint8) uint8 { return uint8(float64(x) + (float64(y)-float64(x))*f) }
		return color.NRGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), 255}
	}
	top, low := color.NRGBA{28, 36, 92, 255}, color.NRGBA{250, 160, 90, 255}
	sunX, sunY, sunR := float64(w)*0.68, float64(horizon)*0.78, float64(h)*0.09
	ridge := func(x float64, base, amp, f1, f2 float64) float64 {
		return base - amp*(0.6*math.Sin(x*f1)+0.4*math.Sin(x*f2+1.3))
	}
	scene := func(x, y int) color.NRGBA {
		fx, fy := float64(x), float64(y)
		far := ridge(fx, float64(horizon)-40, 38, 0.011, 0.029)
		near := ridge(fx, float64(horizon)-8, 26, 0.007, 0.023)
		switch {
		case fy > near:
			return mix(color.NRGBA{34, 52, 48, 255}, color.NRGBA{20, 30, 30, 255}, (fy-near)/40)
		case fy > far:
			return mix(color.NRGBA{86, 74, 110, 255}, color.NRGBA{60, 56, 92, 255}, (fy-far)/60)
		}
		c := mix(top, low, fy/float64(horizon))
		if d := math.Hypot(fx-sunX, fy-sunY); d < sunR {
			return color.NRGBA{255, 224, 150, 255}
		} else if d < sunR*2.2 {
			return mix(color.NRGBA{255, 200, 130, 255}, c, (d-sunR)/(sunR*1.2))
		}
		return c
	}
	for y := range h {
		for x := range w {
			if y < horizon {
				img.SetNRGBA(x, y, scene(x, y))
				continue
			}
			// The lake: the scene mirrored, darker and rippled.
			ry := 2*horizon - y - 1
			rx := x + int(3*math.Sin(float64(y)*0.35))
			rx = max(0, min(w-1, rx))
			c := scene(rx, max(0, ry))
			img.SetNRGBA(x, y, mix(c, color.NRGBA{16, 28, 48, 255}, 0.35+0.4*float64(y-horizon)/float64(h-horizon)))
		}
	}
	return img
}

// TestPlayground_http checks the playground's routes on the real wiring,
// without a browser: served without a key even when every route needs one,
// and gone with -playground=false.
func TestPlayground_http(t *testing.T) {
	keyed := startRun(t, map[string]string{"IMGSVC_API_KEYS": playgroundKey}, "-auth-exempt", "/healthz")
	for _, path := range []string{"/", "/playground/playground.js", "/playground/playground.css"} {
		for _, method := range []string{"GET", "HEAD"} {
			r := doRequest(t, method, keyed.base+path, nil, nil)
			if r.status != http.StatusOK {
				t.Errorf("%s %s with keys on and no key: %d, want 200; %s", method, path, r.status, r.body)
			}
		}
	}
	r := doRequest(t, "GET", keyed.base+"/", nil, nil)
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("GET /: Content-Security-Policy = %q, want the playground's", csp)
	}
	// The API itself still needs the key.
	if r := doRequest(t, "GET", keyed.base+"/v1/openapi.json", nil, nil); r.status != http.StatusUnauthorized {
		t.Errorf("GET /v1/openapi.json with only /healthz exempt and no key: %d, want 401", r.status)
	}

	off := startRun(t, map[string]string{"IMGSVC_PLAYGROUND": "false"})
	for _, path := range []string{"/", "/playground/playground.js"} {
		r := doRequest(t, "GET", off.base+path, nil, nil)
		var p struct{ Code string }
		_ = json.Unmarshal(r.body, &p)
		if r.status != http.StatusNotFound || p.Code != "not_found" || r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s with IMGSVC_PLAYGROUND=false: %d %s %s, want 404 not_found", path, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
}
