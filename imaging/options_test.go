package imaging

import (
	"errors"
	"image"
	"image/color"
	"strings"
	"testing"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name   string
		values map[string][]string
		check  func(Options) bool
	}{
		{"defaults", nil, func(o Options) bool {
			return o.Fit == FitContain && o.Gravity == GravityCenter && o.AutoOrient && o.Strip && o.Gamma == 1
		}},
		{"size", map[string][]string{"width": {"300"}, "height": {"200"}}, func(o Options) bool { return o.Width == 300 && o.Height == 200 }},
		{"float width that is whole", map[string][]string{"width": {"300.0"}}, func(o Options) bool { return o.Width == 300 }},
		{"fit cover", map[string][]string{"fit": {"COVER"}}, func(o Options) bool { return o.Fit == FitCover }},
		{"gravity corner with dash", map[string][]string{"gravity": {"north-east"}}, func(o Options) bool { return o.Gravity == GravityNorthEast }},
		{"gravity centre", map[string][]string{"gravity": {"centre"}}, func(o Options) bool { return o.Gravity == GravityCenter }},
		{"crop", map[string][]string{"crop": {"10, 20, 30, 40"}}, func(o Options) bool { return o.Crop == image.Rect(10, 20, 40, 60) }},
		{"rotate", map[string][]string{"rotate": {"-45.5"}}, func(o Options) bool { return o.Rotate == -45.5 }},
		{"flip", map[string][]string{"flip": {"H"}}, func(o Options) bool { return o.Flip == "h" }},
		{"bare grayscale flag", map[string][]string{"grayscale": {""}}, func(o Options) bool { return o.Grayscale }},
		{"auto_orient off", map[string][]string{"auto_orient": {"false"}}, func(o Options) bool { return !o.AutoOrient }},
		{"strip no", map[string][]string{"strip": {"no"}}, func(o Options) bool { return !o.Strip }},
		{"format jpg alias", map[string][]string{"format": {"jpg"}}, func(o Options) bool { return o.Format == FormatJPEG }},
		{"quality", map[string][]string{"quality": {"70"}}, func(o Options) bool { return o.Quality == 70 }},
		{"background short hex", map[string][]string{"background": {"#f00"}}, func(o Options) bool {
			return o.HasBackground && o.Background == color.NRGBA{255, 0, 0, 255}
		}},
		{"background with alpha", map[string][]string{"background": {"00ff0080"}}, func(o Options) bool {
			return o.Background == color.NRGBA{0, 255, 0, 128}
		}},
		{"same value twice is fine", map[string][]string{"width": {"10", "10"}}, func(o Options) bool { return o.Width == 10 }},
		{"adjustments", map[string][]string{"brightness": {"-20"}, "contrast": {"15"}, "gamma": {"1.5"}, "blur": {"2"}, "sharpen": {"0.5"}},
			func(o Options) bool {
				return o.Brightness == -20 && o.Contrast == 15 && o.Gamma == 1.5 && o.Blur == 2 && o.Sharpen == 0.5
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOptions(tt.values, nil)
			if err != nil {
				t.Fatalf("ParseOptions(%v) returned error %v", tt.values, err)
			}
			if !tt.check(got) {
				t.Errorf("ParseOptions(%v) = %+v, which fails the check", tt.values, got)
			}
		})
	}
}

func TestParseOptions_errors(t *testing.T) {
	tests := []struct {
		name      string
		values    map[string][]string
		wantCode  Code
		wantField string
		wantIn    string // a substring of Detail
	}{
		{"unknown with suggestion", map[string][]string{"widht": {"1"}}, CodeUnknownOption, "widht", `did you mean "width"`},
		{"alias suggestion", map[string][]string{"w": {"1"}}, CodeUnknownOption, "w", `did you mean "width"`},
		{"unknown without suggestion", map[string][]string{"zzzzzz": {"1"}}, CodeUnknownOption, "zzzzzz", `unknown option "zzzzzz"`},
		{"not a number", map[string][]string{"width": {"abc"}}, CodeInvalidOption, "width", `"abc"`},
		{"negative", map[string][]string{"height": {"-5"}}, CodeInvalidOption, "height", "out of range"},
		{"zero", map[string][]string{"width": {"0"}}, CodeInvalidOption, "width", "out of range"},
		{"huge", map[string][]string{"width": {"1e12"}}, CodeInvalidOption, "width", "out of range"},
		{"NaN", map[string][]string{"blur": {"NaN"}}, CodeInvalidOption, "blur", "must be a number"},
		{"Inf", map[string][]string{"sharpen": {"+Inf"}}, CodeInvalidOption, "sharpen", "must be a number"},
		{"fractional width", map[string][]string{"width": {"10.5"}}, CodeInvalidOption, "width", "whole number"},
		{"empty number", map[string][]string{"quality": {""}}, CodeInvalidOption, "quality", "empty"},
		{"quality range", map[string][]string{"quality": {"101"}}, CodeInvalidOption, "quality", "out of range"},
		{"bad fit", map[string][]string{"fit": {"stretch"}}, CodeInvalidOption, "fit", `"stretch"`},
		{"bad flip", map[string][]string{"flip": {"x"}}, CodeInvalidOption, "flip", `"x"`},
		{"bad bool", map[string][]string{"grayscale": {"maybe"}}, CodeInvalidOption, "grayscale", "boolean"},
		{"crop three parts", map[string][]string{"crop": {"1,2,3"}}, CodeInvalidOption, "crop", "invalid crop"},
		{"crop zero size", map[string][]string{"crop": {"0,0,0,5"}}, CodeInvalidOption, "crop", "invalid crop"},
		{"effort out of range", map[string][]string{"effort": {"11"}}, CodeInvalidOption, "effort", "out of range"},
		{"lossless not a bool", map[string][]string{"lossless": {"yes please"}}, CodeInvalidOption, "lossless", "boolean"},
		{"unknown format", map[string][]string{"format": {"xyz"}}, CodeInvalidOption, "format", `invalid format "xyz"`},
		{"bad colour", map[string][]string{"background": {"#12"}}, CodeInvalidOption, "background", "invalid background"},
		{"conflicting duplicates", map[string][]string{"width": {"10", "20"}}, CodeInvalidOption, "width", "more than once"},
		{"gamma zero", map[string][]string{"gamma": {"0"}}, CodeInvalidOption, "gamma", "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOptions(tt.values, nil)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseOptions(%v) error = %v, want *Error", tt.values, err)
			}
			if e.Code != tt.wantCode || e.Field != tt.wantField {
				t.Errorf("got code %q field %q, want %q %q", e.Code, e.Field, tt.wantCode, tt.wantField)
			}
			if !strings.Contains(e.Detail, tt.wantIn) {
				t.Errorf("detail %q does not contain %q", e.Detail, tt.wantIn)
			}
			if e.Hint == "" {
				t.Errorf("no hint for %v", tt.values)
			}
		})
	}
}

func TestParseOptions_fieldName(t *testing.T) {
	_, err := ParseOptions(map[string][]string{"width": {"x"}}, func(n string) string { return "options." + n })
	var e *Error
	if !errors.As(err, &e) || e.Field != "options.width" {
		t.Fatalf("field = %v, want options.width", err)
	}
}

func TestSuggest(t *testing.T) {
	cands := []string{"width", "height", "format"}
	tests := []struct{ in, want string }{
		{"width", "width"}, {"Width", "width"}, {"widht", "width"}, {"heigth", "height"},
		{"formt", "format"}, {"q", ""}, {"xyzzy", ""}, {"fmt", "format"},
		{strings.Repeat("a", 1000), ""},
	}
	for _, tt := range tests {
		if got := Suggest(tt.in, cands, map[string]string{"fmt": "format"}); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
