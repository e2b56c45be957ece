package v1alpha1

import "testing"

func TestTruncateMessage(t *testing.T) {
	for _, tc := range []struct {
		s    string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly 10", 10, "exactly 10"},
		{"a bit too long", 10, "a bit t..."},
		// "é" is two bytes: a cut inside it keeps the whole character out.
		{"ééééé", 9, "ééé..."},
		{"ééééé", 8, "éé..."},
		{"ééééé", 10, "ééééé"},
		{"日本語のテキスト", 8, "日..."},
	} {
		got := TruncateMessage(tc.s, tc.max)
		if got != tc.want {
			t.Errorf("TruncateMessage(%q, %d) = %q, want %q", tc.s, tc.max, got, tc.want)
		}
		if len(got) > tc.max {
			t.Errorf("TruncateMessage(%q, %d) = %q: %d bytes, more than %d", tc.s, tc.max, got, len(got), tc.max)
		}
	}
}
