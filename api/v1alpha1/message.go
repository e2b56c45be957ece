package v1alpha1

import "unicode/utf8"

// TruncateMessage shortens s to at most n bytes, ending it with "..." where
// it was cut, and never splits a UTF-8 character. The operator bounds every
// message it writes with it: a status field's maxLength counts characters, an
// Event's note (at most 1 kB) counts bytes, and a string of at most n bytes
// fits either bound of n.
func TruncateMessage(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:max(cut, 0)] + "..."
}
