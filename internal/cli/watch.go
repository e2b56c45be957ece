package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// eventFunc handles one object event; done ends the watch.
type eventFunc func(watch.Event) (done bool, err error)

// listFunc handles the objects a list found; done ends the watch.
type listFunc func([]runtime.Object) (done bool, err error)

// errRelist asks listAndWatch to start over with a fresh list.
var errRelist = errors.New("watch expired")

// watchRetryDelay is how long to wait before re-establishing a watch that
// failed for a passing reason (the API server restarting, a timeout).
const watchRetryDelay = time.Second

// listAndWatch hands listed the objects a list finds, then fn every change
// after it, in order, until one of them says done or fails, or ctx ends. A
// watch the API server closes is resumed where it stopped; one whose
// resourceVersion has expired starts over with a new list. Returns ctx.Err()
// when ctx ends.
func (c *cluster) listAndWatch(ctx context.Context, list client.ObjectList, opts []client.ListOption, listed listFunc, fn eventFunc) error {
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

// watchFrom watches from resourceVersion rv, re-establishing the watch when
// it ends or fails for a passing reason. It returns errRelist when rv expired.
func (c *cluster) watchFrom(ctx context.Context, list client.ObjectList, opts []client.ListOption, rv string, fn eventFunc) error {
	for {
		raw := &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}
		w, err := c.Client.Watch(ctx, list.DeepCopyObject().(client.ObjectList), append(opts[:len(opts):len(opts)], &client.ListOptions{Raw: raw})...)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case apierrors.IsResourceExpired(err) || apierrors.IsGone(err):
			return errRelist
		case err != nil && transient(err):
			if err := sleep(ctx, watchRetryDelay); err != nil {
				return err
			}
			continue
		case err != nil:
			return explain(err, c.Host)
		}
		started := time.Now()
		var done bool
		rv, done, err = drain(ctx, w, rv, fn)
		w.Stop()
		if done || err != nil {
			return err
		}
		// The API server closed the watch (its timeout, or a passing error):
		// resume from rv, not in a tight loop if it keeps closing at once.
		if time.Since(started) < watchRetryDelay {
			if err := sleep(ctx, watchRetryDelay); err != nil {
				return err
			}
		}
	}
}

// drain hands fn the events of w until w closes or fn says done, returning
// the last resourceVersion seen.
func drain(ctx context.Context, w watch.Interface, rv string, fn eventFunc) (string, bool, error) {
	for {
		select {
		case <-ctx.Done():
			return rv, false, ctx.Err()
		case ev, ok := <-w.ResultChan():
			if !ok {
				return rv, false, nil
			}
			switch ev.Type {
			case watch.Error:
				err := apierrors.FromObject(ev.Object)
				if status, ok := err.(apierrors.APIStatus); ok && status.Status().Code == http.StatusGone {
					return rv, false, errRelist
				}
				if transient(err) {
					return rv, false, nil
				}
				return rv, false, fmt.Errorf("watching: %w", err)
			case watch.Bookmark:
				if m, err := meta.Accessor(ev.Object); err == nil {
					rv = m.GetResourceVersion()
				}
				continue
			}
			if m, err := meta.Accessor(ev.Object); err == nil {
				rv = m.GetResourceVersion()
			}
			if done, err := fn(ev); done || err != nil {
				return rv, done, err
			}
		}
	}
}

// transient reports errors worth retrying: the API server busy, restarting or
// timing out.
func transient(err error) bool {
	return apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsUnexpectedServerError(err)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// watchWorkplan hands fn the Workplan name as it is now and after each change,
// or nil when it does not exist or once it is deleted, until fn says done.
func (c *cluster) watchWorkplan(ctx context.Context, name string, fn func(*kubeciv1.Workplan) (bool, error)) error {
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
