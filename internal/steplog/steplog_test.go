package steplog

import "testing"

func TestPrefixer(t *testing.T) {
	p := NewPrefixer([]string{"a", "build-all"}, false)
	for _, tc := range []struct{ step, line, want string }{
		{"a", "hello", "a         | hello"},
		{"build-all", "done", "build-all | done"},
		{"a", "", "a         |"},
	} {
		if got := p.Line(tc.step, tc.line); got != tc.want {
			t.Errorf("Line(%q, %q) = %q, want %q", tc.step, tc.line, got, tc.want)
		}
	}
	colored := NewPrefixer([]string{"a", "b"}, true)
	if got, want := colored.Prefix("b"), palette[1]+"b |"+ColorReset; got != want {
		t.Errorf("coloured prefix = %q, want %q", got, want)
	}
}
