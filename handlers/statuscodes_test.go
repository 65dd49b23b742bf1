package handlers_test

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/imgsvc/imgsvc/handlers"
	"github.com/imgsvc/imgsvc/imaging"
)

// routeKind groups the routes that share a handler, and so the error codes
// they can answer with.
type routeKind string

const (
	kindProcess        routeKind = "process"        // POST /v1/process, POST /process
	kindInfo           routeKind = "info"           // POST /v1/info, POST /info
	kindOpenAPI        routeKind = "openapi"        // GET /v1/openapi.json
	kindErrorType      routeKind = "errortype"      // GET /v1/errors/{code}
	kindHealthz        routeKind = "healthz"        // GET /healthz
	kindReadyz         routeKind = "readyz"         // GET /readyz
	kindPlayground     routeKind = "playground"     // GET /
	kindPlaygroundFile routeKind = "playgroundfile" // GET /playground/{file}
	kindUnknown        routeKind = "unknown"        // any other path, any method
)

// kindOf maps each route of handlers.PublicRoutes to its kind. A new route
// must be added here (and to docs/status-codes.md and the OpenAPI document).
func kindOf(r handlers.Route) (routeKind, bool) {
	switch r.Method + " " + r.Path {
	case "POST /v1/process", "POST /process":
		return kindProcess, true
	case "POST /v1/info", "POST /info":
		return kindInfo, true
	case "GET /v1/openapi.json":
		return kindOpenAPI, true
	case "GET /v1/errors/:code":
		return kindErrorType, true
	case "GET /healthz":
		return kindHealthz, true
	case "GET /readyz":
		return kindReadyz, true
	case "GET /":
		return kindPlayground, true
	case "GET /playground/:file":
		return kindPlaygroundFile, true
	}
	return "", false
}

// routeCodes is the set of error codes a kind of route can answer with,
// derived from handlers.Codes() and what each handler does:
//
//   - Every known path answers another method with method_not_allowed (Echo's
//     router, with Allow), and anything unexpected becomes internal.
//   - process runs every step: readInput (content type, body, the three
//     forms), ParseOptions, negotiate (Accept), then Pipeline.Plan (pixel
//     limits) and the worker pool (overloaded, processing_timeout, a client
//     gone while queued is request_timeout). Its path always matches, so it
//     never answers not_found; every other code of handlers.Codes() is reachable.
//   - info runs readInput and imaging.Inspect: no Accept negotiation. A
//     multipart field over 64 KiB, a non-scalar JSON option of a known name
//     or a placeholder value that is not a boolean is invalid_option; any
//     other option is unknown_option. placeholder=true adds a job: the input
//     pixel limit (its output is 64 px, never too large), overloaded and
//     processing_timeout.
//   - errortype answers not_found for a code that does not exist, and the
//     playground's file route for a file it does not have; both playground
//     routes answer not_found when -playground=false leaves them out.
//   - readyz answers overloaded while draining or while the queue is full.
//   - An unknown path answers not_found, whatever the method.
func routeCodes(k routeKind) []imaging.Code {
	common := []imaging.Code{handlers.CodeMethodNotAllowed, imaging.CodeInternal}
	switch k {
	case kindProcess:
		return without(handlers.Codes(), handlers.CodeNotFound)
	case kindInfo:
		return without(handlers.Codes(), handlers.CodeNotFound, imaging.CodeOutputTooLarge, handlers.CodeNotAcceptable)
	case kindOpenAPI, kindHealthz:
		return common
	case kindErrorType, kindPlayground, kindPlaygroundFile:
		return append(common, handlers.CodeNotFound)
	case kindReadyz:
		return append(common, imaging.CodeOverloaded)
	case kindUnknown:
		return []imaging.Code{handlers.CodeNotFound}
	}
	return nil
}

func without(codes []imaging.Code, drop ...imaging.Code) []imaging.Code {
	var out []imaging.Code
	for _, c := range codes {
		if !slices.Contains(drop, c) {
			out = append(out, c)
		}
	}
	return out
}

// routeStatuses is every status a kind of route can answer with: 200 (except
// for unknown paths) and the status of each of its codes.
func routeStatuses(k routeKind) map[int][]imaging.Code {
	m := map[int][]imaging.Code{}
	if k != kindUnknown {
		m[http.StatusOK] = nil
	}
	if k == kindPlayground || k == kindPlaygroundFile {
		m[http.StatusNotModified] = nil // the files are revalidated by ETag
	}
	for _, c := range routeCodes(k) {
		m[handlers.Status(c)] = append(m[handlers.Status(c)], c)
	}
	return m
}

// docSection is one route section of docs/status-codes.md.
type docSection struct {
	heading string
	routes  []handlers.Route // empty for the "any other path" section
	rows    map[int][]string // status → codes ("" for a row without a code)
}

var (
	headingRoute = regexp.MustCompile("`(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (/[^`]*)`")
	codeCell     = regexp.MustCompile("`([a-z][a-z0-9_]*)`")
	codeHeading  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// parseStatusDoc reads the route sections of docs/status-codes.md: a "### "
// heading naming the routes in backticks (or "Any other path"), then a table
// whose first column is the status and second the error code. The block a
// deploy script writes between the swarm-e2e markers is not part of it.
func parseStatusDoc(t *testing.T) []docSection {
	t.Helper()
	f, err := os.Open("../docs/status-codes.md")
	if err != nil {
		t.Fatalf("open docs/status-codes.md: %v", err)
	}
	defer f.Close()
	var secs []docSection
	var cur *docSection
	inE2E := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "<!-- swarm-e2e:begin -->"):
			inE2E = true
			continue
		case strings.HasPrefix(line, "<!-- swarm-e2e:end -->"):
			inE2E = false
			continue
		case inE2E:
			continue
		case strings.HasPrefix(line, "## "):
			cur = nil
		case strings.HasPrefix(line, "### "):
			secs = append(secs, docSection{heading: line, rows: map[int][]string{}})
			cur = &secs[len(secs)-1]
			for _, m := range headingRoute.FindAllStringSubmatch(line, -1) {
				cur.routes = append(cur.routes, handlers.Route{Method: m[1], Path: strings.ReplaceAll(strings.ReplaceAll(m[2], "{", ":"), "}", "")})
			}
			if len(cur.routes) == 0 && !strings.Contains(strings.ToLower(line), "any other path") {
				t.Errorf("docs/status-codes.md:%d: heading %q names no route in backticks", n, line)
			}
		case cur != nil && strings.HasPrefix(line, "|"):
			cells := strings.Split(strings.Trim(line, "|"), "|")
			if len(cells) < 3 {
				t.Errorf("docs/status-codes.md:%d: want | status | code | meaning |, got %q", n, line)
				continue
			}
			st, err := strconv.Atoi(strings.TrimSpace(cells[0]))
			if err != nil {
				continue // the header or the separator row
			}
			code := ""
			if m := codeCell.FindStringSubmatch(cells[1]); m != nil {
				code = m[1]
			}
			cur.rows[st] = append(cur.rows[st], code)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return secs
}

func sortedCodes(cs []imaging.Code) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, string(c))
	}
	sort.Strings(out)
	return out
}

func nonEmptySorted(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// TestStatusCodesDoc_MatchesCode checks docs/status-codes.md against the
// code: every route has a section; every status a route can return is in its
// table, with exactly the codes behind it; and no row names a code that
// handlers.Codes() lacks, or the wrong status for a code.
func TestStatusCodesDoc_MatchesCode(t *testing.T) {
	secs := parseStatusDoc(t)
	known := map[string]imaging.Code{}
	for _, c := range handlers.Codes() {
		known[string(c)] = c
	}
	byRoute := map[handlers.Route]*docSection{}
	var unknown *docSection
	for i := range secs {
		s := &secs[i]
		if len(s.routes) == 0 {
			unknown = s
		}
		for _, r := range s.routes {
			byRoute[r] = s
		}
		for st, codes := range s.rows {
			for _, c := range codes {
				if c == "" {
					if st >= 400 {
						t.Errorf("%s: status %d row has no error code", s.heading, st)
					}
					continue
				}
				k, ok := known[c]
				if !ok {
					t.Errorf("%s: status %d lists code %q, which handlers.Codes() does not have", s.heading, st, c)
					continue
				}
				if got := handlers.Status(k); got != st {
					t.Errorf("%s: code %q is listed under %d, but Status(%q) = %d", s.heading, c, st, c, got)
				}
			}
		}
	}
	check := func(name string, s *docSection, k routeKind) {
		if s == nil {
			t.Errorf("docs/status-codes.md has no section for %s", name)
			return
		}
		want := routeStatuses(k)
		for st, codes := range want {
			got, ok := s.rows[st]
			if !ok {
				t.Errorf("%s: status %d, which %s can return, is missing from the table", s.heading, st, name)
				continue
			}
			if g, w := nonEmptySorted(got), sortedCodes(codes); !slices.Equal(g, w) {
				t.Errorf("%s: status %d lists codes %v, want %v", s.heading, st, g, w)
			}
		}
		for st := range s.rows {
			if _, ok := want[st]; !ok {
				t.Errorf("%s: lists status %d, which %s cannot return", s.heading, st, name)
			}
		}
	}
	for _, r := range handlers.PublicRoutes() {
		k, ok := kindOf(r)
		if !ok {
			t.Errorf("route %s %s has no kind in statuscodes_test.go: add it to kindOf and routeCodes", r.Method, r.Path)
			continue
		}
		check(r.Method+" "+r.Path, byRoute[r], k)
	}
	check("any other path", unknown, kindUnknown)
}

// TestStatusCodesDoc_E2EMarkersLast checks the block a deploy script fills
// is still there, at the end of the file.
func TestStatusCodesDoc_E2EMarkersLast(t *testing.T) {
	b, err := os.ReadFile("../docs/status-codes.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	begin := strings.Index(s, "<!-- swarm-e2e:begin -->")
	end := strings.Index(s, "<!-- swarm-e2e:end -->")
	if begin < 0 || end < begin {
		t.Fatalf("docs/status-codes.md: want the markers <!-- swarm-e2e:begin --> then <!-- swarm-e2e:end -->, got begin at %d, end at %d", begin, end)
	}
	if rest := strings.TrimSpace(s[end+len("<!-- swarm-e2e:end -->"):]); rest != "" {
		t.Errorf("docs/status-codes.md: the swarm-e2e block must end the file; found after it: %.80q", rest)
	}
}

// TestOpenAPI_ResponsesMatchCode checks the OpenAPI document's responses per
// operation against the same per-route model: the same statuses, and per
// error status the same enum of codes.
func TestOpenAPI_ResponsesMatchCode(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, r := range handlers.PublicRoutes() {
		k, ok := kindOf(r)
		if !ok {
			t.Errorf("route %s %s has no kind in statuscodes_test.go", r.Method, r.Path)
			continue
		}
		path := regexp.MustCompile(`:([a-z_]+)`).ReplaceAllString(r.Path, "{$1}")
		item := doc.Paths.Value(path)
		if item == nil {
			t.Errorf("OpenAPI: no path %s", path)
			continue
		}
		op := item.GetOperation(r.Method)
		if op == nil {
			t.Errorf("OpenAPI: no operation %s %s", r.Method, path)
			continue
		}
		want := routeStatuses(k)
		got := map[int]bool{}
		for key, resp := range op.Responses.Map() {
			st, err := strconv.Atoi(key)
			if err != nil {
				t.Errorf("OpenAPI %s %s: response key %q is not a status", r.Method, path, key)
				continue
			}
			got[st] = true
			codes, ok := want[st]
			if !ok {
				t.Errorf("OpenAPI %s %s: documents status %d, which the route cannot return", r.Method, path, st)
				continue
			}
			if st < 400 {
				continue
			}
			enum, err := problemCodeEnum(resp.Value)
			if err != nil {
				t.Errorf("OpenAPI %s %s %d: %v", r.Method, path, st, err)
				continue
			}
			if w := sortedCodes(codes); !slices.Equal(enum, w) {
				t.Errorf("OpenAPI %s %s %d: code enum %v, want %v", r.Method, path, st, enum, w)
			}
		}
		for st := range want {
			if !got[st] {
				t.Errorf("OpenAPI %s %s: status %d, which the route can return, is not documented", r.Method, path, st)
			}
		}
	}
}

// problemCodeEnum returns the sorted codes a problem response allows: the
// enum of "code" in the allOf branch next to the Problem schema.
func problemCodeEnum(resp *openapi3.Response) ([]string, error) {
	mt := resp.Content.Get(handlers.MIMEProblemJSON)
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil, fmt.Errorf("no %s schema", handlers.MIMEProblemJSON)
	}
	for _, s := range mt.Schema.Value.AllOf {
		if s.Ref != "" {
			continue // the Problem schema itself, which allows every code
		}
		if p := s.Value.Properties["code"]; p != nil && len(p.Value.Enum) > 0 {
			var out []string
			for _, v := range p.Value.Enum {
				out = append(out, fmt.Sprint(v))
			}
			sort.Strings(out)
			return out, nil
		}
	}
	return nil, fmt.Errorf("no enum of codes next to the Problem schema")
}

// TestErrorsDoc_EveryCode checks docs/errors.md has a "## <code>" section
// for every code, with the code's status, and none for codes that do not exist.
func TestErrorsDoc_EveryCode(t *testing.T) {
	b, err := os.ReadFile("../docs/errors.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]string{}
	var order []string
	cur := ""
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			cur = strings.TrimSpace(h)
			order = append(order, cur)
			continue
		}
		if cur != "" {
			sections[cur] += line + "\n"
		}
	}
	known := map[string]bool{}
	for _, c := range handlers.Codes() {
		known[string(c)] = true
		body, ok := sections[string(c)]
		if !ok {
			t.Errorf("docs/errors.md has no section \"## %s\"", c)
			continue
		}
		want := fmt.Sprintf("**Status:** %d", handlers.Status(c))
		if !strings.Contains(body, want) {
			t.Errorf("docs/errors.md section %s does not say %q", c, want)
		}
		if !strings.Contains(body, `"code":"`+string(c)+`"`) {
			t.Errorf("docs/errors.md section %s shows no real answer with \"code\":%q", c, c)
		}
	}
	for _, h := range order {
		if codeHeading.MatchString(h) && !known[h] {
			t.Errorf("docs/errors.md has a section for %q, which handlers.Codes() does not have", h)
		}
	}
}
