// Package names derives the names and label values of the objects Kube CI
// creates, so that they stay valid however long a Workflow's name is.
package names

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// MaxLabelValue is the longest a label value (and a DNS-1123 label) may be.
const MaxLabelValue = 63

// maxObjectName is the longest a DNS-1123 subdomain object name may be.
const maxObjectName = 253

// hashLen is how many hex digits of a SHA-256 keep shortened names apart.
const hashLen = 10

// Hash returns hashLen hex digits of the SHA-256 of the parts, joined by '/'.
func Hash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "/")))
	return hex.EncodeToString(sum[:])[:hashLen]
}

// Short returns name unchanged when it has at most max characters; otherwise a
// prefix of it, '-' and a hash of the whole name, max characters in all, so that
// different long names stay different.
func Short(name string, max int) string {
	if len(name) <= max {
		return name
	}
	prefix := strings.TrimRight(name[:max-hashLen-1], "-.")
	return prefix + "-" + Hash(name)
}

// LabelValue returns name as a valid label value.
func LabelValue(name string) string {
	return Short(name, MaxLabelValue)
}

// WorkplanPrefix is the generateName prefix of a Workflow's Workplans.
func WorkplanPrefix(workflow string) string {
	return Short(workflow, maxObjectName-hashLen-1) + "-"
}

// Workplan is the deterministic name of the Workplan that answers key (an event
// or a run request): creating it twice fails with AlreadyExists instead of
// starting a second run.
func Workplan(workflow string, key ...string) string {
	return WorkplanPrefix(workflow) + Hash(key...)
}

// TaskPod is the name of the pod that runs task index of a Workplan. It is a
// valid DNS-1123 label, so it also serves as the pod's hostname.
func TaskPod(workplan string, task int) string {
	return Short(fmt.Sprintf("%s-task-%d", workplan, task), MaxLabelValue)
}

// CleanupPod is the name of the pod that removes a Workplan's workspace.
func CleanupPod(workplan string) string {
	return Short(workplan+"-cleanup", MaxLabelValue)
}

// RunRequest is the label value identifying a manual run request: the
// request itself when it is a valid label value (kubeci trigger writes such
// values), else a hash of it.
func RunRequest(request string) string {
	if len(validation.IsValidLabelValue(request)) == 0 {
		return request
	}
	return Hash(request)
}
