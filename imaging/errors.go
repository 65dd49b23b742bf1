// Package imaging is the domain of imgsvc: the options a client may ask for,
// the processing pipeline built on github.com/disintegration/imaging, the
// worker pool that runs it, and the Error type every failure is reported with.
// It knows nothing of HTTP.
package imaging

import (
	"errors"
	"fmt"
)

// Code is a machine-readable error code. The HTTP layer maps each code to one
// status; clients switch on the code, never on the human-readable text.
type Code string

// The error codes of the domain: what the image, the options or the
// service's capacity did. The codes about HTTP (the body, its forms, routes,
// keys, negotiation) are the handlers' own.
const (
	CodeUnsupportedImageFormat Code = "unsupported_image_format"
	CodeCorruptImage           Code = "corrupt_image"
	// CodeUnsupportedImageFeature is a valid image of a format the service
	// reads that uses a feature its decoders do not (12-bit or lossless
	// JPEG, a TIFF compression or colour space, …): the detail names it.
	CodeUnsupportedImageFeature Code = "unsupported_image_feature"
	// CodeTruncatedImage is an image whose data ends early: the detail says
	// how far it got (partial=true renders that part instead).
	CodeTruncatedImage    Code = "truncated_image"
	CodeInvalidOption     Code = "invalid_option"
	CodeUnknownOption     Code = "unknown_option"
	CodeImageTooLarge     Code = "image_too_large"
	CodeOutputTooLarge    Code = "output_too_large"
	CodeRequestTimeout    Code = "request_timeout"
	CodeOverloaded        Code = "overloaded"
	CodeProcessingTimeout Code = "processing_timeout"
	CodeInternal          Code = "internal"
)

// Error is the one error type of the service. Detail says exactly what was
// wrong, Hint how to fix it, Field names the parameter or JSON key at fault
// (empty when none applies). Err, if set, is the underlying cause; it is
// logged but never shown to clients for internal errors.
type Error struct {
	Code   Code
	Detail string
	Hint   string
	Field  string
	// Limit names the configured limit that refused the request, so that
	// the layer that knows how it is configured can say how to raise it;
	// "" for none.
	Limit Limit
	Err   error
}

// Limit names a configured limit of the domain.
type Limit string

// The configured limits an Error may name.
const (
	LimitInputPixels  Limit = "max_input_pixels"
	LimitOutputPixels Limit = "max_output_pixels"
	LimitMemoryBudget Limit = "memory_budget"
	LimitFilterTaps   Limit = "max_filter_taps"
)

// WithLimit names the configured limit that refused the request.
func (e *Error) WithLimit(l Limit) *Error {
	e.Limit = l
	return e
}

// Errorf returns an *Error with the given code and a formatted detail.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// WithHint sets the hint and returns e.
func (e *Error) WithHint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

// WithField sets the field and returns e.
func (e *Error) WithField(field string) *Error {
	e.Field = field
	return e
}

// Wrap sets the underlying cause and returns e.
func (e *Error) Wrap(err error) *Error {
	e.Err = err
	return e
}

func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Detail
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorCode returns the code of the first *Error in err's chain, or
// CodeInternal when there is none.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
