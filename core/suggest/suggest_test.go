package suggest

import (
	"strings"
	"testing"
)

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"minutes", "minutes", 0},
		{"minz", "mins", 1},
		{"frequncy", "frequency", 1},
		{"hour", "houre", 1},
		{"kitten", "sitting", 3},
		{"häuser", "hauser", 1},
		{"", "abc", 3},
		{strings.Repeat("a", 65), "a", 1 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.a+"/"+tt.b, func(t *testing.T) {
			if got := Distance(tt.a, tt.b); got != tt.want {
				t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := Distance(tt.b, tt.a); got != tt.want {
				t.Errorf("Distance(%q, %q) = %d, want %d (symmetric)", tt.b, tt.a, got, tt.want)
			}
		})
	}
}
