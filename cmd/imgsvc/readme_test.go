package main

import (
	"bytes"
	"flag"
	"os"
	"regexp"
	"testing"
)

// TestREADME_listsEveryFlag keeps the README's configuration table true: a
// flag added to parseConfig but not to the table fails here.
func TestREADME_listsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := parseConfig([]string{"-h"}, func(string) string { return "" }, &out); err != flag.ErrHelp {
		t.Fatalf("parseConfig(-h) = %v, want flag.ErrHelp", err)
	}
	flags := regexp.MustCompile(`(?m)^  -([a-z-]+)  \(`).FindAllStringSubmatch(out.String(), -1)
	if len(flags) < 10 {
		t.Fatalf("found only %d flags in the usage text:\n%s", len(flags), out.String())
	}
	for _, f := range flags {
		if !bytes.Contains(readme, []byte("| `-"+f[1]+"` |")) {
			t.Errorf("README.md's configuration table has no row for -%s", f[1])
		}
	}
}
