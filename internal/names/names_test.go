package names

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestShortKeepsNamesValidAndDistinct(t *testing.T) {
	long := strings.Repeat("a", 240)
	other := strings.Repeat("a", 239) + "b"
	cases := map[string]string{
		"short":      TaskPod("wf-abc", 0),
		"long":       TaskPod(long, 1),
		"long-other": TaskPod(other, 1),
		"cleanup":    CleanupPod(long),
		"label":      LabelValue(long + "-.-"),
		"dashes":     LabelValue(strings.Repeat("a", 50) + strings.Repeat("-", 30)),
	}
	for name, got := range cases {
		if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
			t.Errorf("%s: %q is not a DNS-1123 label: %v", name, got, errs)
		}
	}
	if cases["long"] == cases["long-other"] {
		t.Errorf("two long names shortened to the same %q", cases["long"])
	}
	if got := TaskPod("wf-abc", 0); got != "wf-abc-task-0" {
		t.Errorf("short names must stay unchanged, got %q", got)
	}
	wp := Workplan(long, "uid", "7")
	if errs := validation.IsDNS1123Subdomain(wp); len(errs) > 0 {
		t.Errorf("workplan name %q: %v", wp, errs)
	}
	if wp != Workplan(long, "uid", "7") || wp == Workplan(long, "uid", "8") {
		t.Errorf("workplan names must be deterministic per key")
	}
}
