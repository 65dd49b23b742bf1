#!/usr/bin/env python3
"""End-to-end client for imgsvc, driven by cmd/imgsvc/e2e_test.go.

Usage: client.py BASE_URL IMAGE_DIR [CASE ...]

Sends each case (all of them when none is named) the way a Python user
would, with the requests library, and prints one JSON array on stdout:
[{"name", "status", "headers", "body_b64", "sent"}, ...]. headers has
lower-case names; body_b64 is the raw response body; sent holds facts
about the request the Go test needs (for example what was encoded).
The Go test makes every assertion.
"""

import base64
import json
import os
import sys

import requests

TIMEOUT = 30


def b64(data):
    return base64.b64encode(data).decode()


class Client:
    def __init__(self, base, image_dir):
        self.base = base.rstrip("/")
        self.dir = image_dir

    def path(self, name):
        return os.path.join(self.dir, name)

    def read(self, name):
        with open(self.path(name), "rb") as f:
            return f.read()

    def url(self, route):
        return self.base + route

    # -- the JSON form -----------------------------------------------------

    def case_json_process(self):
        meta = {"id": "42", "nested": {"list": [1, 2.5, "x", None, True]}, "unicode": "caf\u00e9 \u2603"}
        r = requests.post(
            self.url("/v1/process"),
            json={"image_b64": b64(self.read("photo.jpg")), "metadata": meta, "options": {"width": 32, "format": "png"}},
            timeout=TIMEOUT,
        )
        return r, {"metadata": meta}

    def case_json_process_png(self):
        meta = {"id": "42", "tags": ["a", "b"]}
        r = requests.post(
            self.url("/v1/process"),
            json={"image_b64": b64(self.read("photo.png")), "metadata": meta, "options": {"height": 24, "format": "jpeg"}},
            timeout=TIMEOUT,
        )
        return r, {"metadata": meta}

    def case_json_process_large_jpeg(self):
        r = requests.post(
            self.url("/v1/process"),
            json={"image_b64": b64(self.read("big.jpg")), "options": {"width": 100}},
            timeout=TIMEOUT,
        )
        return r, {}

    def case_json_process_metadata_verbatim(self):
        # Sent as text so the numbers' spelling can be checked in the echo.
        body = '{"image_b64": "%s", "metadata": {"big": 12345678901234567890, "f": 1.10, "e": 1e2}}' % b64(
            self.read("photo.png")
        )
        r = requests.post(self.url("/v1/process"), data=body, headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
        return r, {}

    def case_json_process_no_metadata(self):
        r = requests.post(self.url("/v1/process"), json={"image_b64": b64(self.read("photo.png"))}, timeout=TIMEOUT)
        return r, {}

    def case_json_accept_image(self):
        r = requests.post(
            self.url("/v1/process"),
            json={"image_b64": b64(self.read("photo.png")), "options": {"width": 16}},
            headers={"Accept": "image/*"},
            timeout=TIMEOUT,
        )
        return r, {}

    def case_json_data_uri(self):
        uri = "data:image/png;base64," + b64(self.read("photo.png"))
        r = requests.post(self.url("/v1/process"), json={"image_b64": uri, "options": {"rotate": 90}}, timeout=TIMEOUT)
        return r, {}

    def case_json_urlsafe_unpadded(self):
        data = self.read("photo.png")
        s = base64.urlsafe_b64encode(data).decode().rstrip("=")
        r = requests.post(self.url("/v1/process"), json={"image_b64": s}, timeout=TIMEOUT)
        return r, {"urlsafe_chars": ("-" in s) or ("_" in s), "unpadded": len(s) % 4 != 0}

    def case_json_b64_newlines(self):
        s = base64.encodebytes(self.read("photo.jpg")).decode()  # lines of 76 characters
        r = requests.post(self.url("/v1/process"), json={"image_b64": s, "options": {"grayscale": True}}, timeout=TIMEOUT)
        return r, {"newlines": s.count("\n")}

    def case_json_info(self):
        r = requests.post(
            self.url("/v1/info"), json={"image_b64": b64(self.read("exif6.jpg")), "metadata": {"k": [1, 2]}}, timeout=TIMEOUT
        )
        return r, {"metadata": {"k": [1, 2]}}

    # -- the multipart form ------------------------------------------------

    def case_multipart_process(self):
        with open(self.path("photo.png"), "rb") as f:
            r = requests.post(
                self.url("/v1/process"),
                files={"image": ("photo.png", f, "image/png")},
                data={"metadata": json.dumps({"id": "42"}), "width": "20", "format": "jpeg"},
                timeout=TIMEOUT,
            )
        return r, {}

    def case_multipart_file_alias(self):
        with open(self.path("photo.jpg"), "rb") as f:
            r = requests.post(self.url("/v1/process") + "?height=12", files={"file": f}, timeout=TIMEOUT)
        return r, {}

    def case_multipart_info(self):
        with open(self.path("anim.gif"), "rb") as f:
            r = requests.post(
                self.url("/v1/info"), files={"image": f}, data={"metadata": '{"id":"7"}'}, timeout=TIMEOUT
            )
        return r, {}

    # -- the raw form ------------------------------------------------------

    def case_raw_process(self):
        r = requests.post(
            self.url("/v1/process"),
            data=self.read("photo.jpg"),
            headers={"Content-Type": "image/jpeg", "X-Request-ID": "py-raw-1"},
            params={"width": 40, "fit": "inside"},
            timeout=TIMEOUT,
        )
        return r, {}

    # -- mistakes ----------------------------------------------------------

    def case_data_is_path(self):
        # No Content-Type at all: requests sends a str body as is.
        r = requests.post(self.url("/v1/process"), data="img.jpg", timeout=TIMEOUT)
        return r, {"content_type": r.request.headers.get("Content-Type")}

    def case_data_file_no_content_type(self):
        with open(self.path("photo.jpg"), "rb") as f:
            r = requests.post(self.url("/v1/process"), data=f, timeout=TIMEOUT)
        return r, {"content_type": r.request.headers.get("Content-Type")}

    def case_data_dict(self):
        # requests form-encodes a dict: the path in a form field.
        r = requests.post(self.url("/v1/process"), data={"image": "photo.jpg"}, timeout=TIMEOUT)
        return r, {}

    def case_json_key_image(self):
        r = requests.post(self.url("/v1/process"), json={"image": b64(self.read("photo.jpg"))}, timeout=TIMEOUT)
        return r, {}

    def case_json_key_img(self):
        r = requests.post(self.url("/v1/process"), json={"img": b64(self.read("photo.jpg"))}, timeout=TIMEOUT)
        return r, {}

    def case_json_key_data(self):
        r = requests.post(self.url("/v1/process"), json={"data": b64(self.read("photo.jpg"))}, timeout=TIMEOUT)
        return r, {}

    def case_json_option_at_top_level(self):
        r = requests.post(
            self.url("/v1/process"), json={"image_b64": b64(self.read("photo.png")), "width": 10}, timeout=TIMEOUT
        )
        return r, {}

    def case_json_missing_image_b64(self):
        r = requests.post(self.url("/v1/process"), json={"metadata": {"id": "1"}}, timeout=TIMEOUT)
        return r, {}

    def case_json_image_b64_number(self):
        r = requests.post(self.url("/v1/process"), json={"image_b64": 12345}, timeout=TIMEOUT)
        return r, {}

    def case_json_image_b64_bytes_repr(self):
        # A classic: str(base64.b64encode(...)) gives "b'...'".
        r = requests.post(
            self.url("/v1/process"), json={"image_b64": str(base64.b64encode(self.read("photo.jpg")))}, timeout=TIMEOUT
        )
        return r, {}

    def case_json_bad_base64(self):
        s = b64(self.read("photo.png"))
        bad = s[:100] + "*" + s[101:]
        r = requests.post(self.url("/v1/process"), json={"image_b64": bad}, timeout=TIMEOUT)
        return r, {"offset": 100}

    def case_json_truncated_base64(self):
        s = b64(self.read("photo.png")).rstrip("=")
        s = s[: (len(s) // 4) * 4 + 1]  # one character too many to be whole bytes
        r = requests.post(self.url("/v1/process"), json={"image_b64": s}, timeout=TIMEOUT)
        return r, {"chars": len(s)}

    def case_json_image_b64_is_path(self):
        r = requests.post(self.url("/v1/process"), json={"image_b64": "/home/me/photo.jpg"}, timeout=TIMEOUT)
        return r, {}

    def case_json_image_b64_is_url(self):
        r = requests.post(self.url("/v1/process"), json={"image_b64": "https://example.com/cat.png"}, timeout=TIMEOUT)
        return r, {}

    def case_json_metadata_string(self):
        r = requests.post(
            self.url("/v1/process"),
            json={"image_b64": b64(self.read("photo.png")), "metadata": '{"id": "42"}'},
            timeout=TIMEOUT,
        )
        return r, {}

    def case_json_metadata_array(self):
        r = requests.post(
            self.url("/v1/process"), json={"image_b64": b64(self.read("photo.png")), "metadata": [1, 2]}, timeout=TIMEOUT
        )
        return r, {}

    def case_json_syntax_error(self):
        body = '{"image_b64": "AAAA",\n  "metadata": {"id": 42,}\n}'
        r = requests.post(self.url("/v1/process"), data=body, headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
        return r, {"body": body}

    def case_json_unknown_option(self):
        r = requests.post(
            self.url("/v1/process"),
            json={"image_b64": b64(self.read("photo.png")), "options": {"widht": 10}},
            timeout=TIMEOUT,
        )
        return r, {}

    def case_json_invalid_option(self):
        r = requests.post(
            self.url("/v1/process"),
            json={"image_b64": b64(self.read("photo.png")), "options": {"quality": 0}},
            timeout=TIMEOUT,
        )
        return r, {}

    def case_json_options_not_object(self):
        r = requests.post(
            self.url("/v1/process"),
            json={"image_b64": b64(self.read("photo.png")), "options": "width=10"},
            timeout=TIMEOUT,
        )
        return r, {}

    def case_multipart_wrong_part_name(self):
        with open(self.path("photo.jpg"), "rb") as f:
            r = requests.post(self.url("/v1/process"), files={"photo": f}, data={"width": "10"}, timeout=TIMEOUT)
        return r, {}

    def case_multipart_metadata_not_object(self):
        with open(self.path("photo.jpg"), "rb") as f:
            r = requests.post(
                self.url("/v1/process"), files={"image": f}, data={"metadata": "id=42"}, timeout=TIMEOUT
            )
        return r, {}

    def case_multipart_header_without_boundary(self):
        # Setting the multipart Content-Type by hand drops the boundary.
        with open(self.path("photo.jpg"), "rb") as f:
            r = requests.post(
                self.url("/v1/process"),
                files={"image": f},
                headers={"Content-Type": "multipart/form-data"},
                timeout=TIMEOUT,
            )
        return r, {}

    def case_accept_jxl(self):
        r = requests.post(
            self.url("/v1/process"),
            data=self.read("photo.jpg"),
            headers={"Content-Type": "image/jpeg", "Accept": "image/jxl"},
            timeout=TIMEOUT,
        )
        return r, {}


def run(client, name):
    fn = getattr(client, "case_" + name)
    try:
        r, sent = fn()
    except Exception as e:  # report, don't crash: the Go test names the case
        return {"name": name, "error": "%s: %s" % (type(e).__name__, e)}
    return {
        "name": name,
        "status": r.status_code,
        "headers": {k.lower(): v for k, v in r.headers.items()},
        "body_b64": b64(r.content),
        "sent": sent,
    }


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    client = Client(sys.argv[1], sys.argv[2])
    names = sys.argv[3:] or sorted(n[len("case_"):] for n in dir(Client) if n.startswith("case_"))
    json.dump([run(client, n) for n in names], sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
