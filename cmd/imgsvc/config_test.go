package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// cfgEnv returns a getenv func backed by a map.
func cfgEnv(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// cfgDefaults is the configuration with no flags and no environment.
func cfgDefaults() config {
	return config{
		Addr: ":8080", AdminAddr: ":9090",
		Workers: 0, QueueSize: 0, QueueTimeout: 10 * time.Second, JobTimeout: 30 * time.Second, MemoryBudget: 0,
		MaxBodyBytes: 32 << 20, MaxInputPixels: 100_000_000, MaxOutputPixels: 50_000_000, MaxFilterTaps: 2_000_000_000, MaxFrames: 500,
		ReadHeaderTimeout: 10 * time.Second, BodyTimeout: 60 * time.Second, WriteTimeout: 0,
		IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		ShutdownGrace: 20 * time.Second, DrainDelay: 0, RetryAfter: 2 * time.Second,
		LogLevel: "info", LogFormat: "json",
		APIKeyHeader: "X-API-Key", AuthExempt: "/healthz,/readyz,/v1/openapi.json,/v1/errors/{code}",
		Playground: true,
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(c *config)
	}{
		{name: "defaults", want: func(c *config) {}},
		{
			name: "flags",
			args: []string{
				"-addr", "127.0.0.1:1", "-admin-addr", "", "-workers", "3", "-queue-size", "7",
				"-queue-timeout", "2s", "-job-timeout", "50ms", "-memory-budget", "-1",
				"-max-body-bytes", "1000", "-max-input-pixels", "2000", "-max-output-pixels", "3000",
				"-read-header-timeout", "1s", "-body-timeout", "2s", "-write-timeout", "3s", "-idle-timeout", "4s",
				"-max-header-bytes", "4096", "-shutdown-grace", "5s", "-drain-delay", "6s", "-retry-after", "7s",
				"-log-level", "debug", "-log-format", "text", "-playground=false",
			},
			want: func(c *config) {
				*c = config{
					Addr: "127.0.0.1:1", AdminAddr: "", Workers: 3, QueueSize: 7, QueueTimeout: 2 * time.Second,
					JobTimeout: 50 * time.Millisecond, MemoryBudget: -1, MaxBodyBytes: 1000, MaxInputPixels: 2000,
					MaxOutputPixels: 3000, MaxFilterTaps: 2_000_000_000, MaxFrames: 500, ReadHeaderTimeout: time.Second, BodyTimeout: 2 * time.Second,
					WriteTimeout: 3 * time.Second, IdleTimeout: 4 * time.Second, MaxHeaderBytes: 4096,
					ShutdownGrace: 5 * time.Second, DrainDelay: 6 * time.Second, RetryAfter: 7 * time.Second,
					LogLevel: "debug", LogFormat: "text",
					APIKeyHeader: "X-API-Key", AuthExempt: "/healthz,/readyz,/v1/openapi.json,/v1/errors/{code}",
				}
			},
		},
		{
			name: "flags with = and double dash",
			args: []string{"--addr=:1234", "-workers=2", "--job-timeout=1m"},
			want: func(c *config) { c.Addr, c.Workers, c.JobTimeout = ":1234", 2, time.Minute },
		},
		{
			name: "env fallback for every flag",
			env: map[string]string{
				"IMGSVC_ADDR": "127.0.0.1:2", "IMGSVC_ADMIN_ADDR": "127.0.0.1:3", "IMGSVC_WORKERS": "4",
				"IMGSVC_QUEUE_SIZE": "5", "IMGSVC_QUEUE_TIMEOUT": "6s", "IMGSVC_JOB_TIMEOUT": "7s",
				"IMGSVC_MEMORY_BUDGET": "1048576", "IMGSVC_MAX_BODY_BYTES": "8", "IMGSVC_MAX_INPUT_PIXELS": "9",
				"IMGSVC_MAX_OUTPUT_PIXELS": "10", "IMGSVC_READ_HEADER_TIMEOUT": "11s", "IMGSVC_BODY_TIMEOUT": "12s",
				"IMGSVC_WRITE_TIMEOUT": "13s", "IMGSVC_IDLE_TIMEOUT": "14s", "IMGSVC_MAX_HEADER_BYTES": "15",
				"IMGSVC_SHUTDOWN_GRACE": "16s", "IMGSVC_DRAIN_DELAY": "17s", "IMGSVC_RETRY_AFTER": "18s",
				"IMGSVC_LOG_LEVEL": "warn", "IMGSVC_LOG_FORMAT": "text", "IMGSVC_PLAYGROUND": "false",
			},
			want: func(c *config) {
				*c = config{
					Addr: "127.0.0.1:2", AdminAddr: "127.0.0.1:3", Workers: 4, QueueSize: 5, QueueTimeout: 6 * time.Second,
					JobTimeout: 7 * time.Second, MemoryBudget: 1 << 20, MaxBodyBytes: 8, MaxInputPixels: 9,
					MaxOutputPixels: 10, MaxFilterTaps: 2_000_000_000, MaxFrames: 500, ReadHeaderTimeout: 11 * time.Second, BodyTimeout: 12 * time.Second,
					WriteTimeout: 13 * time.Second, IdleTimeout: 14 * time.Second, MaxHeaderBytes: 15,
					ShutdownGrace: 16 * time.Second, DrainDelay: 17 * time.Second, RetryAfter: 18 * time.Second,
					LogLevel: "warn", LogFormat: "text",
					APIKeyHeader: "X-API-Key", AuthExempt: "/healthz,/readyz,/v1/openapi.json,/v1/errors/{code}",
				}
			},
		},
		{
			name: "flag on the command line wins over env",
			args: []string{"-workers", "2", "-addr", ":7000"},
			env:  map[string]string{"IMGSVC_WORKERS": "9", "IMGSVC_ADDR": ":9999", "IMGSVC_QUEUE_SIZE": "11"},
			want: func(c *config) { c.Workers, c.Addr, c.QueueSize = 2, ":7000", 11 },
		},
		{
			name: "flag set to its default still wins over env",
			args: []string{"-workers", "0"},
			env:  map[string]string{"IMGSVC_WORKERS": "9"},
			want: func(c *config) { c.Workers = 0 },
		},
		{
			name: "a bad env value is ignored when the flag is given",
			args: []string{"-workers", "1"},
			env:  map[string]string{"IMGSVC_WORKERS": "many"},
			want: func(c *config) { c.Workers = 1 },
		},
		{
			name: "empty env value means unset",
			env:  map[string]string{"IMGSVC_ADDR": "", "IMGSVC_WORKERS": ""},
			want: func(c *config) {},
		},
		{
			name: "variables without the IMGSVC_ prefix are ignored",
			env:  map[string]string{"ADDR": ":1", "WORKERS": "5", "imgsvc_workers": "5", "PORT": "1"},
			want: func(c *config) {},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			got, err := parseConfig(tt.args, cfgEnv(tt.env), &out)
			if err != nil {
				t.Fatalf("parseConfig(%q) returned error %v, want nil; output:\n%s", tt.args, err, out.String())
			}
			want := cfgDefaults()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("parseConfig(%q) =\n%+v\nwant\n%+v", tt.args, got, want)
			}
		})
	}
}

func TestParseConfig_errors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		// wantIn are substrings the error must contain: the flag or the
		// variable at fault, and the bad value.
		wantIn []string
	}{
		{name: "flag not a number", args: []string{"-workers", "many"}, wantIn: []string{"-workers", "many"}},
		{name: "flag bad duration", args: []string{"-job-timeout", "5"}, wantIn: []string{"-job-timeout", "5"}},
		{name: "unknown flag", args: []string{"-port", "80"}, wantIn: []string{"-port"}},
		{name: "stray argument", args: []string{"serve"}, wantIn: []string{`"serve"`}},
		{name: "flag negative workers", args: []string{"-workers", "-1"}, wantIn: []string{"-workers", "-1"}},
		{name: "flag negative queue", args: []string{"-queue-size", "-2"}, wantIn: []string{"-queue-size", "-2"}},
		{name: "flag zero body limit", args: []string{"-max-body-bytes", "0"}, wantIn: []string{"-max-body-bytes", "0"}},
		{name: "flag zero input pixels", args: []string{"-max-input-pixels", "0"}, wantIn: []string{"-max-input-pixels"}},
		{name: "flag negative output pixels", args: []string{"-max-output-pixels", "-5"}, wantIn: []string{"-max-output-pixels"}},
		{name: "flag negative grace", args: []string{"-shutdown-grace", "-1s"}, wantIn: []string{"-shutdown-grace"}},
		{name: "flag negative drain delay", args: []string{"-drain-delay", "-1s"}, wantIn: []string{"-drain-delay"}},
		{name: "flag empty addr", args: []string{"-addr", ""}, wantIn: []string{"-addr"}},
		{name: "flag bad log level", args: []string{"-log-level", "loud"}, wantIn: []string{"-log-level", "loud"}},
		{name: "flag bad log format", args: []string{"-log-format", "xml"}, wantIn: []string{"-log-format", "xml"}},

		{name: "env not a number", env: map[string]string{"IMGSVC_WORKERS": "many"}, wantIn: []string{"IMGSVC_WORKERS", "many"}},
		{name: "env bad duration", env: map[string]string{"IMGSVC_BODY_TIMEOUT": "10"}, wantIn: []string{"IMGSVC_BODY_TIMEOUT", "10"}},
		{name: "env bad int64", env: map[string]string{"IMGSVC_MAX_BODY_BYTES": "32MB"}, wantIn: []string{"IMGSVC_MAX_BODY_BYTES", "32MB"}},
		// Values that parse but are out of range must also name the
		// variable the operator set, not only the flag they never typed.
		{name: "env negative workers", env: map[string]string{"IMGSVC_WORKERS": "-1"}, wantIn: []string{"IMGSVC_WORKERS", "-1"}},
		{name: "env zero body limit", env: map[string]string{"IMGSVC_MAX_BODY_BYTES": "0"}, wantIn: []string{"IMGSVC_MAX_BODY_BYTES", "0"}},
		{name: "env bad log level", env: map[string]string{"IMGSVC_LOG_LEVEL": "loud"}, wantIn: []string{"IMGSVC_LOG_LEVEL", "loud"}},
		{name: "env bad log format", env: map[string]string{"IMGSVC_LOG_FORMAT": "xml"}, wantIn: []string{"IMGSVC_LOG_FORMAT", "xml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { configError(t, tt.args, tt.env, tt.wantIn) })
	}
}

// configError parses args with env, expects an error that contains each of
// wantIn, and returns it for further checks.
func configError(t *testing.T, args []string, env map[string]string, wantIn []string) error {
	t.Helper()
	_, err := parseConfig(args, cfgEnv(env), io.Discard)
	if err == nil {
		t.Fatalf("parseConfig(%q, %v) returned nil error, want one containing %q", args, env, wantIn)
	}
	for _, s := range wantIn {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("parseConfig(%q, %v) error = %q, want it to contain %q", args, env, err, s)
		}
	}
	return err
}

func TestParseConfig_help(t *testing.T) {
	// Every flag, its variable and its default as -h shows it.
	flags := []struct{ name, env, def string }{
		{"addr", "IMGSVC_ADDR", ":8080"},
		{"admin-addr", "IMGSVC_ADMIN_ADDR", ":9090"},
		{"workers", "IMGSVC_WORKERS", "0"},
		{"queue-size", "IMGSVC_QUEUE_SIZE", "0"},
		{"queue-timeout", "IMGSVC_QUEUE_TIMEOUT", "10s"},
		{"job-timeout", "IMGSVC_JOB_TIMEOUT", "30s"},
		{"memory-budget", "IMGSVC_MEMORY_BUDGET", "0"},
		{"max-body-memory", "IMGSVC_MAX_BODY_MEMORY", "0"},
		{"max-body-bytes", "IMGSVC_MAX_BODY_BYTES", "33554432"},
		{"max-input-pixels", "IMGSVC_MAX_INPUT_PIXELS", "100000000"},
		{"max-output-pixels", "IMGSVC_MAX_OUTPUT_PIXELS", "50000000"},
		{"max-filter-taps", "IMGSVC_MAX_FILTER_TAPS", "2000000000"},
		{"max-frames", "IMGSVC_MAX_FRAMES", "500"},
		{"read-header-timeout", "IMGSVC_READ_HEADER_TIMEOUT", "10s"},
		{"body-timeout", "IMGSVC_BODY_TIMEOUT", "1m0s"},
		{"write-timeout", "IMGSVC_WRITE_TIMEOUT", "0s"},
		{"idle-timeout", "IMGSVC_IDLE_TIMEOUT", "2m0s"},
		{"max-header-bytes", "IMGSVC_MAX_HEADER_BYTES", "65536"},
		{"shutdown-grace", "IMGSVC_SHUTDOWN_GRACE", "20s"},
		{"drain-delay", "IMGSVC_DRAIN_DELAY", "0s"},
		{"retry-after", "IMGSVC_RETRY_AFTER", "2s"},
		{"log-level", "IMGSVC_LOG_LEVEL", "info"},
		{"log-format", "IMGSVC_LOG_FORMAT", "json"},
		{"api-keys", "IMGSVC_API_KEYS", `""`},
		{"api-keys-file", "IMGSVC_API_KEYS_FILE", `""`},
		{"api-key-header", "IMGSVC_API_KEY_HEADER", "X-API-Key"},
		{"auth-exempt", "IMGSVC_AUTH_EXEMPT", "/healthz,/readyz,/v1/openapi.json,/v1/errors/{code}"},
		{"cors-origins", "IMGSVC_CORS_ORIGINS", `""`},
		{"playground", "IMGSVC_PLAYGROUND", "true"},
	}
	for _, args := range [][]string{{"-h"}, {"-help"}, {"--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out bytes.Buffer
			_, err := parseConfig(args, cfgEnv(nil), &out)
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("parseConfig(%q) error = %v, want flag.ErrHelp", args, err)
			}
			help := out.String()
			for _, f := range flags {
				line := "-" + f.name + "  (" + f.env + ", default " + f.def + ")"
				if !strings.Contains(help, line) {
					t.Errorf("-h output lacks %q; got:\n%s", line, help)
				}
			}
			// No flag is missing from the table above.
			n := 0
			for _, l := range strings.Split(help, "\n") {
				if strings.HasPrefix(l, "  -") && strings.Contains(l, "(IMGSVC_") {
					n++
				}
			}
			if n != len(flags) {
				t.Errorf("-h lists %d flags, want %d (update this test with the new flag's variable and default)", n, len(flags))
			}
			for _, s := range []string{"healthcheck", "version"} {
				if !strings.Contains(help, s) {
					t.Errorf("-h output does not mention the %q subcommand", s)
				}
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	tests := []struct{ flag, want string }{
		{"addr", "IMGSVC_ADDR"},
		{"admin-addr", "IMGSVC_ADMIN_ADDR"},
		{"max-output-pixels", "IMGSVC_MAX_OUTPUT_PIXELS"},
	}
	for _, tt := range tests {
		if got := envName(tt.flag); got != tt.want {
			t.Errorf("envName(%q) = %q, want %q", tt.flag, got, tt.want)
		}
	}
}
