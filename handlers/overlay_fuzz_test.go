package handlers

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"testing"
)

// FuzzOverlay fuzzes requests with an overlay image, multipart and JSON:
// the seed images paired with each other, with overlay options. Whatever
// the bytes, the answer is a 200 or a well-formed 4xx, and every request
// gives back its body memory.
func FuzzOverlay(f *testing.F) {
	imgs := fuzzSeedImages(f)
	var list [][]byte
	for _, b := range imgs {
		list = append(list, b)
	}
	queries := []string{"", "overlay_gravity=center&overlay_opacity=0.5", "overlay_width=3&overlay_margin=0&width=8",
		"overlay_margin=40", "rotate=90&overlay_gravity=northwest&format=png"}
	for i, img := range list {
		ov := list[(i+1)%len(list)]
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		fw, _ := w.CreateFormFile("image", "a")
		fw.Write(img)
		fw, _ = w.CreateFormFile([]string{"overlay", "watermark"}[i%2], "b")
		fw.Write(ov)
		w.Close()
		f.Add(true, w.Boundary(), queries[i%len(queries)], buf.Bytes())
		body, _ := json.Marshal(map[string]any{"image_b64": base64.StdEncoding.EncodeToString(img),
			"overlay_b64": base64.RawURLEncoding.EncodeToString(ov), "options": map[string]any{"overlay_width": 4 + i}})
		f.Add(false, "", queries[(i+2)%len(queries)], body)
	}
	f.Add(false, "", "", []byte(`{"image_b64":"iVBORw0KGgo=","overlay_b64":"iVBORw0KGgo="}`))
	f.Add(false, "", "overlay_opacity=1", []byte(`{"image_b64":"iVBORw0KGgo=","overlay_b64":{"a":1}}`))
	f.Add(true, "b", "", []byte("--b\r\nContent-Disposition: form-data; name=\"overlay\"\r\n\r\nlogo.png\r\n--b--\r\n"))
	e := fuzzEcho()
	f.Fuzz(func(t *testing.T, multi bool, boundary, query string, body []byte) {
		ct := "application/json"
		if multi {
			ct = "multipart/form-data; boundary=\"" + boundary + "\""
		}
		fuzzServe(t, e, ct, "", query, body)
	})
}
