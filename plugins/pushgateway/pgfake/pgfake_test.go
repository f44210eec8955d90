package pgfake

import (
	"bytes"
	"compress/gzip"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func do(t *testing.T, method, url, body string, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(req.Header, header)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// PUT replaces the whole group, POST only the metrics it names, DELETE
// removes the group (spec, Methods).
func TestMethods(t *testing.T) {
	s := New(t, Config{})
	u := s.URL() + "/metrics/job/backup"
	key := map[string]string{"job": "backup"}
	names := func() []string {
		g, _ := s.Group(key)
		return slices.Sorted(maps.Keys(g.Metrics))
	}
	if code, _ := do(t, http.MethodPost, u, "a 1\nb 2\n", nil); code != 200 {
		t.Fatalf("POST answered %d", code)
	}
	if code, _ := do(t, http.MethodPost, u, "b 3\n", nil); code != 200 {
		t.Fatalf("POST answered %d", code)
	}
	if v, _ := s.Value(key, "a"); v != 1 {
		t.Errorf("POST of b changed a: %v", v)
	}
	if v, _ := s.Value(key, "b"); v != 3 {
		t.Errorf("b = %v, want 3", v)
	}
	if got := names(); !slices.Equal(got, []string{"a", "b", PushFailureTimeMetric, PushTimeMetric}) {
		t.Errorf("metrics %v", got)
	}
	if code, _ := do(t, http.MethodPut, u, "c 4\n", nil); code != 200 {
		t.Fatalf("PUT answered %d", code)
	}
	if got := names(); !slices.Equal(got, []string{"c", PushFailureTimeMetric, PushTimeMetric}) {
		t.Errorf("after PUT: metrics %v, want c and the gateway's own", got)
	}
	if code, _ := do(t, http.MethodDelete, u, "", nil); code != 202 {
		t.Errorf("DELETE answered %d, want 202", code)
	}
	if _, ok := s.Group(key); ok {
		t.Error("group still there after DELETE")
	}
	if code, _ := do(t, http.MethodDelete, u, "", nil); code != 202 {
		t.Errorf("DELETE of an absent group answered %d, want 202", code)
	}
}

func TestAnswers(t *testing.T) {
	gz := func(s string) string {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write([]byte(s))
		_ = w.Close()
		return b.String()
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		header http.Header
		status int
		answer string            // prefix of the answer
		group  map[string]string // stored group, when 200
	}{
		{"plain", "POST", "/metrics/job/j/a/1", "m 1\n", nil, 200, "", map[string]string{"job": "j", "a": "1"}},
		{"base64 job and label", "POST", "/metrics/job@base64/YS9i/p@base64/L3Zhcg==", "m 1\n", nil, 200, "", map[string]string{"job": "a/b", "p": "/var"}},
		{"empty label value", "POST", "/metrics/job/j/e@base64/=", "m 1\n", nil, 200, "", map[string]string{"job": "j", "e": ""}},
		{"escaped value", "POST", "/metrics/job/j/d/a%20b", "m 1\n", nil, 200, "", map[string]string{"job": "j", "d": "a b"}},
		{"gzip", "POST", "/metrics/job/j", gz("m 1\n"), http.Header{"Content-Encoding": {"gzip"}}, 200, "", map[string]string{"job": "j"}},
		{"bad base64 job", "POST", "/metrics/job@base64/!!", "m 1\n", nil, 400, `invalid base64 encoding in job name "": illegal base64 data at input byte 0`, nil},
		{"bad base64 label", "POST", "/metrics/job/j/a@base64/!!", "m 1\n", nil, 400, `invalid base64 encoding for label a="!!": illegal base64 data at input byte 0`, nil},
		{"odd components", "POST", "/metrics/job/j/a", "m 1\n", nil, 400, `odd number of components in label string "/a"`, nil},
		{"improper label name", "POST", "/metrics/job/j/a-b/1", "m 1\n", nil, 400, `improper label name "a-b"`, nil},
		{"reserved label name", "POST", "/metrics/job/j/__x/1", "m 1\n", nil, 400, `improper label name "__x"`, nil},
		{"empty base64 job", "POST", "/metrics/job@base64/=", "m 1\n", nil, 400, "job name is required", nil},
		{"CRLF", "POST", "/metrics/job/j", "m 1\r\n", nil, 400, `text format parsing error in line 1: expected float as value, got "1\r"`, nil},
		{"timestamps", "POST", "/metrics/job/j", "m 1 1700000000000\n", nil, 400, "pushed metrics are invalid or inconsistent with existing metrics: pushed metrics must not have timestamps", nil},
		{"GET on a push route", "GET", "/metrics/job/j", "", nil, 405, "Method Not Allowed", nil},
		{"unknown path", "POST", "/push/j", "m 1\n", nil, 404, "404 page not found", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t, Config{})
			code, answer := do(t, tt.method, s.URL()+tt.path, tt.body, tt.header)
			if code != tt.status || !strings.HasPrefix(answer, tt.answer) {
				t.Errorf("answered %d %q, want %d %q", code, answer, tt.status, tt.answer)
			}
			if tt.group != nil {
				if v, ok := s.Value(tt.group, "m"); !ok || v != 1 {
					t.Errorf("m in %v = %v, %v; groups %+v", tt.group, v, ok, s.Groups())
				}
			}
		})
	}
}

func TestGroupingLabelsOverwriteBodyLabels(t *testing.T) {
	s := New(t, Config{})
	if code, _ := do(t, "POST", s.URL()+"/metrics/job/j/env/prod", "m{env=\"dev\",x=\"y\"} 1\n", nil); code != 200 {
		t.Fatal(code)
	}
	g, _ := s.Group(map[string]string{"job": "j", "env": "prod"})
	got := g.Metrics["m"].Samples[0].Labels
	want := map[string]string{"job": "j", "env": "prod", "x": "y", "instance": ""}
	if !maps.Equal(got, want) {
		t.Errorf("labels %v, want %v", got, want)
	}
}

func TestBasicAuth(t *testing.T) {
	s := New(t, Config{Username: "u", Password: "p"})
	if code, _ := do(t, "POST", s.URL()+"/metrics/job/j", "m 1\n", nil); code != 401 {
		t.Errorf("without credentials: %d, want 401", code)
	}
	req, _ := http.NewRequest("POST", s.URL()+"/metrics/job/j", strings.NewReader("m 1\n"))
	req.SetBasicAuth("u", "p")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("with credentials: %d", resp.StatusCode)
	}
}
