package cluster

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMountsUnder(t *testing.T) {
	const mountinfo = `22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
100 27 254:0 /var/lib/kubeci-e2e/kubelet /var/lib/kubeci-e2e/kubelet rw,relatime shared:1 - ext4 /dev/vda rw
101 100 0:50 / /var/lib/kubeci-e2e/kubelet/pods/uid/volumes/kubernetes.io~projected/kube-api-access-x rw - tmpfs tmpfs rw
102 27 0:51 / /var/lib/kubeci-e2e/containerd/state/io.containerd.grpc.v1.cri/sandboxes/abc/shm rw - tmpfs shm rw
103 27 0:4 net:[4026532] /var/lib/kubeci-e2e/containerd/state/io.containerd.grpc.v1.cri/netns/cni-1 rw - nsfs nsfs rw
104 27 0:52 / /var/lib/kubeci-e2e-logs/x rw - tmpfs tmpfs rw
105 27 0:53 / /var/lib/kubeci-e2e/with\040space rw - tmpfs tmpfs rw
106 27 254:0 /x /var/lib/kubeci-e2e rw - ext4 /dev/vda rw
`
	got := mountsUnder(mountinfo, "/var/lib/kubeci-e2e/")
	want := []string{
		"/var/lib/kubeci-e2e/kubelet/pods/uid/volumes/kubernetes.io~projected/kube-api-access-x",
		"/var/lib/kubeci-e2e/containerd/state/io.containerd.grpc.v1.cri/sandboxes/abc/shm",
		"/var/lib/kubeci-e2e/containerd/state/io.containerd.grpc.v1.cri/netns/cni-1",
		"/var/lib/kubeci-e2e/kubelet",
		"/var/lib/kubeci-e2e/with space",
		"/var/lib/kubeci-e2e",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mountsUnder (-want +got):\n%s", diff)
	}
}

func TestUnescapeMountPath(t *testing.T) {
	for in, want := range map[string]string{
		`/plain`:          "/plain",
		`/a\040b`:         "/a b",
		`/tab\011and\134`: "/tab\tand\\",
		`/short\04`:       `/short\04`,
		`/not\999octal`:   `/not\999octal`,
	} {
		if got := unescapeMountPath(in); got != want {
			t.Errorf("unescapeMountPath(%q) = %q, want %q", in, got, want)
		}
	}
}
