package handlers

import (
	"fmt"

	"github.com/imgsvc/imgsvc/imaging"
)

// infoPlaceholder takes the placeholder option out of in's options, the
// one option /v1/info takes, and parses it.
func infoPlaceholder(in *input) (bool, error) {
	vs, ok := in.options[imaging.OptPlaceholder]
	if !ok {
		return false, nil
	}
	field := in.fieldName(imaging.OptPlaceholder)
	delete(in.options, imaging.OptPlaceholder)
	return imaging.ParsePlaceholder(vs, field)
}

// infoOptionsError refuses the options /v1/info does not take (names,
// sorted; got quotes them), pointing a near miss of placeholder at it.
func infoOptionsError(in *input, names []string, got string) error {
	e := imaging.Errorf(imaging.CodeUnknownOption, "/v1/info takes no options but %s, got %s", imaging.OptPlaceholder, got).WithField(in.fieldName(names[0])).
		WithHint("send options to /v1/process; /v1/info describes the image, and takes only placeholder=true (adds blurhash and dominant_color)")
	for _, n := range names {
		if s := imaging.Suggest(n, []string{imaging.OptPlaceholder}, placeholderAliases()); s != "" {
			e.Detail += fmt.Sprintf("; did you mean %q instead of %q?", s, truncate(n, 60))
			e.Field = in.fieldName(n)
			break
		}
	}
	return e
}

// placeholderAliases maps names clients may use for the placeholder option.
func placeholderAliases() map[string]string {
	return map[string]string{"blurhash": imaging.OptPlaceholder, "blur_hash": imaging.OptPlaceholder,
		"dominant_color": imaging.OptPlaceholder, "dominant_colour": imaging.OptPlaceholder, "lqip": imaging.OptPlaceholder}
}
