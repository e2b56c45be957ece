package cluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Chains the harness adds to iptables' filter table to keep pods inside the
// machine: isolationForward drops what the bridge would route elsewhere,
// isolationInput lets pods reach only the API server on the node.
// cniCacheDir is where libcni caches the result of each attachment.
const cniCacheDir = "/var/lib/cni/results"

const (
	isolationForward = "KUBECI-E2E-FORWARD"
	isolationInput   = "KUBECI-E2E-INPUT"
)

// setUpNetwork creates the CNI bridge with the node's address before any
// component starts (kube-apiserver listens on that address; the bridge plugin
// reuses the bridge), and the isolation chains.
func setUpNetwork() error {
	if _, err := os.Stat("/sys/class/net/" + Bridge); err != nil {
		if err := run("ip", "link", "add", Bridge, "type", "bridge"); err != nil {
			return err
		}
	}
	if err := run("ip", "addr", "replace", NodeIP+"/"+prefixLen(PodSubnet), "dev", Bridge); err != nil {
		return err
	}
	if err := run("ip", "link", "set", Bridge, "up"); err != nil {
		return err
	}
	rules := map[string][][]string{
		isolationForward: {
			{"-i", Bridge, "!", "-o", Bridge, "-j", "DROP"},
		},
		isolationInput: {
			{"-i", Bridge, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
			{"-i", Bridge, "-p", "tcp", "-d", NodeIP, "--dport", strconv.Itoa(APIServerPort), "-j", "ACCEPT"},
			{"-i", Bridge, "-j", "DROP"},
		},
	}
	for chain, chainRules := range map[string]string{isolationForward: "FORWARD", isolationInput: "INPUT"} {
		_ = iptables("-N", chain) // exists already after a crash: flushed below
		if err := iptables("-F", chain); err != nil {
			return err
		}
		for _, r := range rules[chain] {
			args := append([]string{"-A", chain}, r...)
			args = append(args, "-m", "comment", "--comment", "kubeci-e2e: keep pods inside the machine")
			if err := iptables(args...); err != nil {
				return err
			}
		}
		if iptables("-C", chainRules, "-j", chain) != nil {
			if err := iptables("-I", chainRules, "1", "-j", chain); err != nil {
				return err
			}
		}
	}
	return nil
}

// tearDownNetwork removes the bridge (and any interface still attached to
// it), the isolation chains, the KUBE-* chains and the CNI results cache.
func tearDownNetwork(c *Config) error {
	var errs []error
	if _, err := os.Stat("/sys/class/net/" + Bridge); err == nil {
		ports, _ := filepath.Glob("/sys/class/net/" + Bridge + "/brif/*")
		for _, port := range ports {
			_ = run("ip", "link", "del", filepath.Base(port)) // a veth whose namespace lingers
		}
		if err := run("ip", "link", "del", Bridge); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := exec.LookPath("iptables"); err == nil {
		for chain, parent := range map[string]string{isolationForward: "FORWARD", isolationInput: "INPUT"} {
			for iptables("-C", parent, "-j", chain) == nil {
				if err := iptables("-D", parent, "-j", chain); err != nil {
					errs = append(errs, err)
					break
				}
			}
			if iptables("-L", chain, "-n") == nil {
				if err := iptables("-F", chain); err != nil {
					errs = append(errs, err)
				}
				if err := iptables("-X", chain); err != nil {
					errs = append(errs, err)
				}
			}
		}
		if err := removeKubeChains(); err != nil {
			errs = append(errs, err)
		}
	}
	// libcni caches each attachment's result outside containerd's state: for
	// the pod network and for the loopback network containerd adds.
	cached, _ := filepath.Glob(filepath.Join(cniCacheDir, NetworkName+"-*"))
	sandboxes, _ := os.ReadDir(c.Path("containerd", "state", "io.containerd.grpc.v1.cri", "sandboxes"))
	for _, sb := range sandboxes {
		cached = append(cached, filepath.Join(cniCacheDir, "cni-loopback-"+sb.Name()+"-lo"))
	}
	for _, f := range cached {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeKubeChains removes the KUBE-* chains of every table, for IPv4 and
// IPv6, and the rules jumping to them: kube-proxy's service rules and the
// kubelet's KUBE-FIREWALL and canary chains.
func removeKubeChains() error {
	var errs []error
	for _, cmd := range []string{"iptables", "ip6tables"} {
		if _, err := exec.LookPath(cmd); err != nil {
			continue
		}
		for _, table := range []string{"filter", "nat", "mangle"} {
			out, err := exec.Command(cmd, "-w", "5", "-t", table, "-S").Output()
			if err != nil {
				continue // no such table for this family
			}
			var chains []string
			for _, line := range strings.Split(string(out), "\n") {
				args := splitRule(line)
				switch {
				case len(args) == 2 && args[0] == "-N" && strings.HasPrefix(args[1], "KUBE-"):
					chains = append(chains, args[1])
				case len(args) > 2 && args[0] == "-A" && !strings.HasPrefix(args[1], "KUBE-") && jumpsToKube(args):
					args[0] = "-D"
					if err := run(cmd, append([]string{"-w", "5", "-t", table}, args...)...); err != nil {
						errs = append(errs, err)
					}
				}
			}
			for _, op := range []string{"-F", "-X"} {
				for _, chain := range chains {
					if err := run(cmd, "-w", "5", "-t", table, op, chain); err != nil {
						errs = append(errs, err)
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

func jumpsToKube(args []string) bool {
	for i := 0; i+1 < len(args); i++ {
		if (args[i] == "-j" || args[i] == "-g") && strings.HasPrefix(args[i+1], "KUBE-") {
			return true
		}
	}
	return false
}

// splitRule splits a line of `iptables -S` into arguments: words, or double
// quoted strings with backslash escapes.
func splitRule(line string) []string {
	var args []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case quoted && ch == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case ch == '"':
			quoted = !quoted
			inWord = true
		case !quoted && (ch == ' ' || ch == '\t'):
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args
}

func iptables(args ...string) error {
	return run("iptables", append([]string{"-w", "5"}, args...)...)
}

// run runs a command, returning its output in the error when it fails.
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func prefixLen(cidr string) string {
	_, bits, _ := strings.Cut(cidr, "/")
	return bits
}
