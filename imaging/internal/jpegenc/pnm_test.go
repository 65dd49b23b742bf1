package jpegenc

import (
	"fmt"
	"io"
)

func fmtSscan(r io.Reader, magic *string, w, h, maxv *int) (int, error) {
	return fmt.Fscan(r, magic, w, h, maxv)
}
