// Command dlprobe checks that the native libraries carried by the imgsvc
// container image load the way the service loads them: with dlopen through
// purego, from a binary built with CGO_ENABLED=0.
//
// It opens every library named on the command line, or else every name in
// the list the image build writes (-list, /usr/share/imgsvc/native-libs),
// and calls one trivial function in each library it knows (the version
// getters of libwebp, libwebpdemux, libwebpmux, libheif, libavif). libheif
// must also report an HEVC decoder: without one it loads but cannot read a
// HEIC file. Exit status 0 when everything loaded and answered, 1 otherwise.
//
//	docker run --rm --read-only --entrypoint /dlprobe imgsvc:dev
//	docker run --rm --read-only --entrypoint /dlprobe imgsvc:dev libwebp.so libheif.so.1
//
// It is built from the imgsvc module, with the purego version the service
// uses (github.com/gen2brain/webp loads libwebp through it).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ebitengine/purego"
)

// A probe calls something trivial in an opened library and describes it.
type probe func(h uintptr) (string, error)

// probes by library name without its ".so..." suffix: a library that is
// not listed here is only opened.
var probes = map[string]probe{
	"libwebp":      versionInt("WebPGetEncoderVersion", "WebPGetDecoderVersion"),
	"libwebpdemux": versionInt("WebPGetDemuxVersion"),
	"libwebpmux":   versionInt("WebPGetMuxVersion"),
	"libheif":      heif,
	"libavif":      versionString("avifVersion"),
}

func main() {
	list := flag.String("list", "/usr/share/imgsvc/native-libs",
		"file naming the libraries to open, one a line ('#' starts a comment); used when no library is named as an argument")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: dlprobe [-list FILE] [LIBRARY...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()

	names := flag.Args()
	if len(names) == 0 {
		var err error
		if names, err = readList(*list); err != nil {
			fmt.Fprintf(os.Stderr, "dlprobe: %v\n", err)
			os.Exit(1)
		}
	}

	failed := 0
	for _, name := range names {
		detail, err := load(name)
		if err != nil {
			failed++
			fmt.Printf("FAIL  %-20s %v\n", name, err)
			continue
		}
		fmt.Printf("ok    %-20s %s\n", name, detail)
	}

	// Where the libraries and their dependencies came from.
	if paths, err := mapped(); err == nil {
		fmt.Printf("mapped (%d):\n", len(paths))
		for _, p := range paths {
			fmt.Printf("      %s\n", p)
		}
	}

	if failed > 0 {
		fmt.Printf("dlprobe: %d of %d libraries failed\n", failed, len(names))
		os.Exit(1)
	}
	fmt.Printf("dlprobe: all %d libraries loaded\n", len(names))
}

func readList(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line != "" {
			names = append(names, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s names no library", path)
	}
	return names, nil
}

// load opens name the way a purego binding does (RTLD_NOW: every symbol of
// the library and its dependencies resolved at once) and runs its probe.
// The handle is kept open, so that /proc/self/maps shows it afterwards.
func load(name string) (string, error) {
	h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return "", fmt.Errorf("dlopen: %w", err)
	}
	base, _, _ := strings.Cut(filepath.Base(name), ".so")
	p, ok := probes[base]
	if !ok {
		return "opened", nil
	}
	return p(h)
}

// lookup binds the C function sym in h to fptr, or says why it cannot.
func lookup(h uintptr, fptr any, sym string) error {
	addr, err := purego.Dlsym(h, sym)
	if err != nil {
		return fmt.Errorf("dlsym %s: %w", sym, err)
	}
	purego.RegisterFunc(fptr, addr)
	return nil
}

// versionInt calls libwebp-style getters: int f(void), 0xMMmmpp.
func versionInt(syms ...string) probe {
	return func(h uintptr) (string, error) {
		var out []string
		for _, sym := range syms {
			var f func() int32
			if err := lookup(h, &f, sym); err != nil {
				return "", err
			}
			v := f()
			out = append(out, fmt.Sprintf("%s() = %d.%d.%d", sym, v>>16&0xff, v>>8&0xff, v&0xff))
		}
		return strings.Join(out, ", "), nil
	}
}

// versionString calls const char *f(void).
func versionString(sym string) probe {
	return func(h uintptr) (string, error) {
		var f func() string
		if err := lookup(h, &f, sym); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s() = %s", sym, f()), nil
	}
}

// enum heif_compression_format (libheif/heif.h).
const (
	heifCompressionHEVC = 1
	heifCompressionAV1  = 4
)

func heif(h uintptr) (string, error) {
	var version func() string
	var haveDecoder func(format int32) int32
	if err := lookup(h, &version, "heif_get_version"); err != nil {
		return "", err
	}
	if err := lookup(h, &haveDecoder, "heif_have_decoder_for_format"); err != nil {
		return "", err
	}
	hevc, av1 := haveDecoder(heifCompressionHEVC) != 0, haveDecoder(heifCompressionAV1) != 0
	detail := fmt.Sprintf("heif_get_version() = %s, decoders: HEVC %s, AV1 %s",
		version(), yesNo(hevc), yesNo(av1))
	if !hevc {
		return "", errors.New(detail + ": no HEVC decoder, HEIC files could not be read")
	}
	return detail, nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// mapped lists the shared objects mapped into this process.
func mapped() ([]string, error) {
	data, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 6 {
			continue
		}
		p := fields[5]
		if strings.HasPrefix(p, "/") && strings.Contains(filepath.Base(p), ".so") {
			seen[p] = true
		}
	}
	paths := make([]string, 0, len(seen))
	for p := range seen {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths, nil
}
