package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// eventFunc handles one object event; done ends the watch.
type eventFunc func(watch.Event) (done bool, err error)

// listFunc handles the objects a list found; done ends the watch.
type listFunc func([]runtime.Object) (done bool, err error)

// errRelist asks listAndWatch to start over with a fresh list.
var errRelist = errors.New("watch expired")

// listAndWatch hands listed the objects a list finds, then fn every change
// after it, in order, until one of them says done or fails, or ctx ends.
// client-go's RetryWatcher resumes a watch the API server closes (its
// timeout, a restart) where it stopped; one whose resourceVersion has expired
// starts over with a new list. Returns ctx.Err() when ctx ends.
func (c *cluster) listAndWatch(ctx context.Context, list client.ObjectList, opts []client.ListOption, listed listFunc, fn eventFunc) error {
	// The RetryWatcher logs what it retries; a command's output is not the
	// place for it.
	ctx = klog.NewContext(ctx, logr.Discard())
	for {
		fresh := list.DeepCopyObject().(client.ObjectList)
		if err := c.Client.List(ctx, fresh, opts...); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return explain(err, c.Host)
		}
		items, err := meta.ExtractList(fresh)
		if err != nil {
			return err
		}
		if done, err := listed(items); done || err != nil {
			return err
		}
		err = c.watchFrom(ctx, list, opts, fresh.GetResourceVersion(), fn)
		if !errors.Is(err, errRelist) {
			return err
		}
	}
}

// watchFrom hands fn the changes after resourceVersion rv, through a
// RetryWatcher. It returns errRelist when rv has expired.
func (c *cluster) watchFrom(ctx context.Context, list client.ObjectList, opts []client.ListOption, rv string, fn eventFunc) error {
	lw := &cache.ListWatch{WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		return c.Client.Watch(ctx, list.DeepCopyObject().(client.ObjectList), append(opts[:len(opts):len(opts)], &client.ListOptions{Raw: &o})...)
	}}
	w, err := watchtools.NewRetryWatcherWithContext(ctx, rv, lw)
	if err != nil {
		return err
	}
	_, err = watchtools.UntilWithoutRetry(ctx, w, func(ev watch.Event) (bool, error) {
		if ev.Type != watch.Error {
			return fn(ev)
		}
		err := apierrors.FromObject(ev.Object)
		if status, ok := err.(apierrors.APIStatus); ok && status.Status().Code == http.StatusGone {
			return false, errRelist
		}
		return false, fmt.Errorf("watching: %w", explain(err, c.Host))
	})
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, watchtools.ErrWatchClosed):
		// The RetryWatcher gave up without saying why: start over.
		return errRelist
	}
	return err
}

// watchWorkplan hands fn the Workplan name as it is now and after each change,
// or nil when it does not exist or once it is deleted, until fn says done.
func (c *cluster) watchWorkplan(ctx context.Context, name string, handle func(*kubeciv1.Workplan) (bool, error)) error {
	fn := func(wp *kubeciv1.Workplan) (bool, error) {
		done, err := handle(wp)
		return c.waitingAfter(wp, done || err != nil), err
	}
	opts := []client.ListOption{client.InNamespace(c.Namespace),
		client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", name)}}
	return c.listAndWatch(ctx, &kubeciv1.WorkplanList{}, opts,
		func(items []runtime.Object) (bool, error) {
			for _, item := range items {
				if wp, ok := item.(*kubeciv1.Workplan); ok {
					return fn(wp)
				}
			}
			return fn(nil)
		},
		func(ev watch.Event) (bool, error) {
			wp, ok := ev.Object.(*kubeciv1.Workplan)
			if !ok {
				return false, nil
			}
			if ev.Type == watch.Deleted {
				return fn(nil)
			}
			return fn(wp)
		})
}
