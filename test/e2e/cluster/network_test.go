package cluster

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitRule(t *testing.T) {
	for line, want := range map[string][]string{
		`-N KUBE-FIREWALL`: {"-N", "KUBE-FIREWALL"},
		`-A INPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`: {
			"-A", "INPUT", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"},
		`-A X --comment "say \"hi\"" -j DROP`: {"-A", "X", "--comment", `say "hi"`, "-j", "DROP"},
		`-A X --comment "" -j DROP`:           {"-A", "X", "--comment", "", "-j", "DROP"},
		``:                                    nil,
	} {
		if diff := cmp.Diff(want, splitRule(line)); diff != "" {
			t.Errorf("splitRule(%q) (-want +got):\n%s", line, diff)
		}
	}
}

func TestJumpsToKube(t *testing.T) {
	for _, tc := range []struct {
		rule string
		want bool
	}{
		{`-A INPUT -j KUBE-FIREWALL`, true},
		{`-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`, true},
		{`-A FORWARD -g KUBE-FORWARD`, true},
		{`-A INPUT -j KUBECI-E2E-INPUT`, false},
		{`-A INPUT -m comment --comment "-j KUBE-X" -j ACCEPT`, false},
	} {
		if got := jumpsToKube(splitRule(tc.rule)); got != tc.want {
			t.Errorf("jumpsToKube(%q) = %v, want %v", tc.rule, got, tc.want)
		}
	}
}
