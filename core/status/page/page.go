// Package page renders the daemon's status snapshot as one HTML page: a
// card per heartbeat (frequency, next beat, the last result per target, a
// timeline strip of the recent beats) and the plugins' states. The page is
// served from the binary, needs nothing from another host, and works
// without JavaScript: it refreshes itself with a meta refresh.
package page

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"

	"github.com/seed-e9b80cf6/heartbeat/core/status"
)

// RefreshSeconds is how often the page reloads itself.
const RefreshSeconds = 10

//go:embed page.html.tmpl
var pageTemplate string

//go:embed style.css
var styleSheet string

// Handler serves the status page of the snapshot source returns, taken
// afresh for each request. Everything from the snapshot is escaped by
// html/template; the only style is the embedded sheet, allowed by its hash
// in the Content-Security-Policy, and there is no script at all.
func Handler(source func() status.Snapshot) http.Handler {
	tmpl := template.Must(template.New("page").Parse(pageTemplate))
	sum := sha256.Sum256([]byte(styleSheet))
	csp := "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; img-src data:; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		var body bytes.Buffer
		if err := tmpl.Execute(&body, build(source(), template.CSS(styleSheet))); err != nil {
			// Only a bug in the template gets here: the view is plain data.
			http.Error(w, "the status page could not be rendered", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Length", strconv.Itoa(body.Len()))
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body.Bytes())
	})
}
