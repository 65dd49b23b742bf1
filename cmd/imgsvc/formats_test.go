package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/imgsvc/imgsvc/imaging"
)

// formatTable renders the README's format table from the codec table.
func formatTable() string {
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return ""
	}
	var b strings.Builder
	b.WriteString("| format | media types | read | written | alpha | quality | lossless | effort |\n|---|---|---|---|---|---|---|---|\n")
	for _, c := range imaging.Codecs() {
		read, written, quality, lossless, effort := "", "", "", "", ""
		if c.Decoder != nil {
			read = c.Decoder.Library
		}
		if e := c.Encoder; e != nil {
			written = e.Library
			if e.Quality > 0 {
				quality = fmt.Sprintf("1–100, default %d", e.Quality)
			}
			lossless = yes(e.Lossless)
			if e.Effort != (imaging.Range{}) {
				effort = fmt.Sprintf("%d–%d, default %d", e.Effort.Min, e.Effort.Max, e.Effort.Default)
			}
		}
		names := "`" + string(c.Format) + "`"
		for _, a := range c.Aliases {
			names += ", `" + a + "`"
		}
		fmt.Fprintf(&b, "| %s (%s) | %s | %s | %s | %s | %s | %s | %s |\n", c.Title, names,
			"`"+strings.Join(c.MediaTypes, "`, `")+"`", read, written, yes(c.Alpha), quality, lossless, effort)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// TestREADME_formatTable keeps the README's format table equal to the codec
// table: a format added to the table, or a backend changed, fails here.
func TestREADME_formatTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "<!-- formats:begin")
	got, _, ok2 := strings.Cut(rest, "<!-- formats:end -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no formats:begin/formats:end markers")
	}
	_, got, _ = strings.Cut(got, "-->\n")
	if want := formatTable(); strings.TrimSpace(got) != want {
		t.Errorf("README.md's format table differs from the codec table; it should read:\n%s", want)
	}
}
