package trigger

import (
	"testing"
	"time"
)

// An access review is asked again once its answer is old: an allow after
// AccessTTL, a denial after ForbiddenRetry, so that a granted permission is
// seen soon and a revoked one in time.
func TestAccessFresh(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		allowed bool
		age     time.Duration
		want    bool
	}{
		{"an allow just answered", true, 0, true},
		{"an allow shortly before its TTL", true, AccessTTL - time.Second, true},
		{"an allow at its TTL", true, AccessTTL, false},
		{"a denial just answered", false, 0, true},
		{"a denial shortly before its retry", false, ForbiddenRetry - time.Millisecond, true},
		{"a denial at its retry", false, ForbiddenRetry, false},
		{"a denial older than its retry but younger than an allow's TTL", false, time.Minute, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := AccessFresh(tc.allowed, at, at.Add(tc.age)); got != tc.want {
				t.Errorf("AccessFresh(%v, age %s) = %v, want %v", tc.allowed, tc.age, got, tc.want)
			}
		})
	}
}
