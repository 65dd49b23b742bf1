package handlers

import "github.com/imgsvc/imgsvc/imaging"

// The error codes about HTTP: the request body and its three forms, routes,
// API keys and content negotiation. The domain's codes are imaging's.
const (
	CodeMissingContentType     imaging.Code = "missing_content_type"
	CodeUnsupportedContentType imaging.Code = "unsupported_content_type"
	CodeEmptyBody              imaging.Code = "empty_body"
	CodeBodyIsPath             imaging.Code = "body_is_path"
	CodeBodyIsURL              imaging.Code = "body_is_url"
	CodeContentTypeMismatch    imaging.Code = "content_type_mismatch"
	CodeInvalidJSON            imaging.Code = "invalid_json"
	CodeUnknownField           imaging.Code = "unknown_field"
	CodeMissingField           imaging.Code = "missing_field"
	CodeInvalidFieldType       imaging.Code = "invalid_field_type"
	CodeInvalidBase64          imaging.Code = "invalid_base64"
	CodeInvalidMetadata        imaging.Code = "invalid_metadata"
	CodeMalformedMultipart     imaging.Code = "malformed_multipart"
	CodeMissingFilePart        imaging.Code = "missing_file_part"
	CodeBodyTooLarge           imaging.Code = "body_too_large"
	CodeNotAcceptable          imaging.Code = "not_acceptable"
	CodeMethodNotAllowed       imaging.Code = "method_not_allowed"
	CodeNotFound               imaging.Code = "not_found"
	CodeUnauthorized           imaging.Code = "unauthorized"
)
