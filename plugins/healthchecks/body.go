package main

import (
	"fmt"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// minCutBody is the smallest limit worth spending on a truncation marker.
const minCutBody = 32

// fitBody builds a POST body, the message then the log, of at most limit
// bytes. The server would keep only the first bytes and drop the end of the
// log, usually the part that says what went wrong; so an oversized body
// keeps the message and the end of the log, with a marker in between
// saying how much was cut.
func fitBody(message string, log []byte, limit int) []byte {
	return sdk.FitText(message, log, limit, minCutBody, func(cut int) string {
		return fmt.Sprintf("\n[… %d bytes cut by heartbeat to fit the server's limit of %d bytes …]\n", cut, limit)
	})
}
