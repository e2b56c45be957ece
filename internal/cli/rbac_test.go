package cli

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/golden"
)

// readmeRole is the Role the README documents as enough for every command.
func readmeRole(t *testing.T) *rbacv1.Role {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```yaml\n(# The Role kubeci needs.*?)```").FindSubmatch(data)
	if block == nil {
		t.Fatal("README.md documents no Role for kubeci (a yaml block starting \"# The Role kubeci needs\")")
	}
	role := &rbacv1.Role{}
	if err := yaml.UnmarshalStrict(block[1], role); err != nil {
		t.Fatalf("the README's Role: %v", err)
	}
	return role
}

// grant binds role to user in the test namespace.
func (k *kube) grant(user string, role *rbacv1.Role) {
	k.t.Helper()
	role = role.DeepCopy()
	role.Name = user
	k.create(role)
	k.create(&rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: user}},
	})
}

// Every command works for a user holding only the Role the README documents.
func TestDocumentedRBACIsEnough(t *testing.T) {
	k := newKube(t)
	k.startOperator()
	k.create(k.sample("build", false))
	k.grant("dev", readmeRole(t))
	as := func(args ...string) []string { return append(args, "--as", "dev") }

	r := k.start(as("trigger", "build", "--wait")...)
	r.waitLines(1)
	wp := k.runOf(r.out.String())
	start := time.Now()
	k.setStatus(wp, func(wp *kubeciv1.Workplan) { completed(wp, start, 3*time.Second) })
	if code := r.wait(); code != 0 {
		t.Fatalf("trigger --wait as dev: exit code %d: %s", code, r.errOut)
	}
	for _, args := range [][]string{
		{"get", "wf"}, {"get", "wp"}, {"describe", "wf", "build"}, {"describe", "wp", wp.Name},
		{"logs", wp.Name}, {"wait", wp.Name}, {"trigger", "build"},
	} {
		out, errOut, code := k.run(as(args...)...)
		if code != 0 || strings.Contains(out+errOut, "forbidden") || strings.Contains(out, "unavailable") {
			t.Errorf("kubeci %s as dev: exit code %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
	second := &kubeciv1.WorkplanList{}
	if err := k.env.Client.List(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	for _, run := range second.Items {
		if run.Namespace == k.ns && run.Name != wp.Name {
			if out, errOut, code := k.run(as("cancel", run.Name)...); code != 0 {
				t.Errorf("cancel as dev: exit code %d\n%s%s", code, out, errOut)
			}
		}
	}
}

// Someone who may only read is told what is missing.
func TestTriggerForbidden(t *testing.T) {
	k := newKube(t)
	k.create(k.sample("build", false))
	k.grant("viewer", &rbacv1.Role{Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{kubeciv1.GroupVersion.Group}, Resources: []string{"workflows", "workplans"}, Verbs: []string{"get", "list", "watch"}}}})
	out, errOut, code := k.run("trigger", "build", "--as", "viewer")
	if code != 1 || out != "" {
		t.Errorf("exit code %d, output %q; want 1 and nothing", code, out)
	}
	golden.Check(t, "trigger-forbidden.golden", []byte(k.maskRun(errOut)))
}
