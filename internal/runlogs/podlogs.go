package runlogs

import (
	"context"
	"fmt"
	"io"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// PodLogs reads container logs through the API server (pods/log), which asks
// the pod's kubelet, with the credentials of Pods' client.
type PodLogs struct {
	Pods       corev1client.PodInterface
	Timestamps bool
	// Explain turns other errors into what the user should read; nil keeps
	// them as they are.
	Explain func(error) error
}

// Open implements Streamer.
func (p PodLogs) Open(ctx context.Context, pod, container string, follow bool) (io.ReadCloser, error) {
	r, err := p.Pods.GetLogs(pod, &corev1.PodLogOptions{Container: container, Follow: follow, Timestamps: p.Timestamps}).Stream(ctx)
	switch {
	case err == nil:
		return r, nil
	case apierrors.IsNotFound(err):
		return nil, fmt.Errorf("%w: %v", ErrPodGone, err)
	case apierrors.IsBadRequest(err) && (strings.Contains(err.Error(), "waiting to start") ||
		strings.Contains(err.Error(), "PodInitializing") || strings.Contains(err.Error(), "ContainerCreating")):
		return nil, fmt.Errorf("%w: %v", ErrNotStarted, err)
	}
	if p.Explain != nil {
		return nil, p.Explain(err)
	}
	return nil, err
}
