package trigger

import (
	"fmt"
	"strings"
	"testing"
)

func TestCheckRecordSize(t *testing.T) {
	record := func(n int) map[string]string {
		m := make(map[string]string, n)
		for i := range n {
			m[fmt.Sprintf("%08d-0000-0000-0000-000000000000", i)] = "h:0123456789abcdef"
		}
		return m
	}
	if msg := CheckRecordSize(record(10_000)); msg != "" {
		t.Errorf("10,000 objects fit: %s", msg)
	}
	msg := CheckRecordSize(record(30_000))
	for _, want := range []string{"match 30000 objects", "1757 KiB", "more than the 768 KiB", "about 12684 objects", "narrowed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message for 30,000 objects lacks %q: %s", want, msg)
		}
	}
}
