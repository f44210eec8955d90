package httpclient

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

func TestLimitOf(t *testing.T) {
	pool := NewPool()
	shared, err := New(0, TLSSettings{}, WithPool(pool))
	if err != nil {
		t.Fatal(err)
	}
	sameSettings, err := New(0, TLSSettings{}, WithPool(pool), FollowRedirects(RedirectsNone))
	if err != nil {
		t.Fatal(err)
	}
	insecure, err := New(0, TLSSettings{InsecureSkipVerify: true}, WithPool(pool))
	if err != nil {
		t.Fatal(err)
	}
	mustParse := func(raw string) *url.URL {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	base := LimitOf(shared, mustParse("https://hc-ping.com/uuid-1"))
	if base.Key == nil || base.N != maxConnsPerHost {
		t.Fatalf("LimitOf = %+v, want a key and a bound of %d", base, maxConnsPerHost)
	}
	tests := []struct {
		name   string
		client *http.Client
		url    string
		same   bool
	}{
		{"another path on the host", shared, "https://hc-ping.com/uuid-2", true},
		{"the host in capitals, the default port written out", shared, "https://HC-PING.com:443/x", true},
		{"another client of the same transport", sameSettings, "https://hc-ping.com/uuid-3", true},
		{"another host", shared, "https://hc-ping.io/uuid-1", false},
		{"another port", shared, "https://hc-ping.com:8443/uuid-1", false},
		{"another scheme", shared, "http://hc-ping.com/uuid-1", false},
		{"another transport", insecure, "https://hc-ping.com/uuid-1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LimitOf(tt.client, mustParse(tt.url))
			if (got.Key == base.Key) != tt.same {
				t.Errorf("key %v, base %v: shared = %v, want %v", got.Key, base.Key, got.Key == base.Key, tt.same)
			}
			if got.N != maxConnsPerHost {
				t.Errorf("bound %d, want %d", got.N, maxConnsPerHost)
			}
		})
	}
	t.Run("a transport without a bound", func(t *testing.T) {
		if got := LimitOf(&http.Client{Transport: &http.Transport{}}, mustParse("https://hc-ping.com/")); got != (Limit{}) {
			t.Errorf("LimitOf = %+v, want none", got)
		}
		if got := LimitOf(&http.Client{}, mustParse("https://hc-ping.com/")); got != (Limit{}) {
			t.Errorf("LimitOf of the default transport = %+v, want none", got)
		}
	})
}

// An instance that embeds its Limit is an sdk.Limited with that bound.
func TestEmbeddedLimit(t *testing.T) {
	client, err := New(0, TLSSettings{}, WithPool(NewPool()))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("https://hc-ping.com/x")
	var in sdk.Instance = &struct {
		sdk.Instance
		Limit
	}{Limit: LimitOf(client, u)}
	l, ok := in.(sdk.Limited)
	if !ok {
		t.Fatal("an instance embedding a Limit is not an sdk.Limited")
	}
	if key, n := l.BeatLimit(sdk.Beat{}); key == nil || n != maxConnsPerHost {
		t.Errorf("BeatLimit = %v, %d", key, n)
	}
}
