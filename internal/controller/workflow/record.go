package workflow

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"sync"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/internal/trigger"
)

// +kubebuilder:rbac:groups=kube.ci,resources=triggerrecords,verbs=create;get;list;update;delete

// writeParallelism is how many shards a split writes at once.
const writeParallelism = 8

// record is a Workflow's record of acted-on changes as read: kept in its
// status (shards zero) or in TriggerRecord shards.
type record struct {
	shards int
	// entries are the entries read: the whole record when whole, else
	// those of the shards loaded.
	entries map[string]string
	whole   bool
	// loaded holds the entries of the shards read, restricted to those that
	// belong there, and objects the shards as read (nil: not there yet).
	loaded  map[int]map[string]string
	objects map[int]*kubeciv1.TriggerRecord
}

// shardName is the name of shard i of wf's record.
func shardName(wf *kubeciv1.Workflow, i int) string {
	return names.Short(wf.Name, 253-len("-record-2047")) + "-record-" + strconv.Itoa(i)
}

// readRecord reads wf's whole record. Shards are read from the API server, not
// from a cache, so that a decision never starts from a record older than the
// one it last wrote.
func (r *Reconciler) readRecord(ctx context.Context, wf *kubeciv1.Workflow) (*record, error) {
	rec := &record{shards: int(wf.Status.RecordShards), entries: wf.Status.LastObservedResourceGeneration, whole: true,
		loaded: map[int]map[string]string{}, objects: map[int]*kubeciv1.TriggerRecord{}}
	if rec.shards == 0 {
		if rec.entries == nil {
			rec.entries = map[string]string{}
		}
		return rec, nil
	}
	var list kubeciv1.TriggerRecordList
	if err := r.reader.List(ctx, &list, client.InNamespace(wf.Namespace),
		client.MatchingLabels{kubeciv1.LabelWorkflowUID: string(wf.UID)}); err != nil {
		return nil, fmt.Errorf("reading the record of acted-on changes: %w", err)
	}
	rec.entries = map[string]string{}
	for i := range list.Items {
		tr := &list.Items[i]
		n := int(tr.Shard)
		if n >= rec.shards || tr.Name != shardName(wf, n) {
			continue // left by a split that was not recorded
		}
		rec.objects[n] = tr
		rec.loaded[n] = trigger.InShard(tr.Entries, n, rec.shards)
		for uid, v := range rec.loaded[n] {
			rec.entries[uid] = v
		}
	}
	return rec, nil
}

// readShardsOf reads the part of wf's record that holds the objects of
// changed: the status, or the shards they hash to (the copies this controller
// last read or wrote, else from the API server).
func (r *Reconciler) readShardsOf(ctx context.Context, wf *kubeciv1.Workflow, changed map[types.UID]bool) (*record, error) {
	rec := &record{shards: int(wf.Status.RecordShards), loaded: map[int]map[string]string{}, objects: map[int]*kubeciv1.TriggerRecord{}}
	if rec.shards == 0 {
		return r.readRecord(ctx, wf)
	}
	want := map[int]bool{}
	for uid := range changed {
		want[trigger.ShardOf(string(uid), rec.shards)] = true
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(writeParallelism)
	key := client.ObjectKeyFromObject(wf)
	for i := range want {
		g.Go(func() error {
			tr := r.shards.get(key, wf.UID, rec.shards, i)
			if tr == nil {
				tr = &kubeciv1.TriggerRecord{}
				err := r.reader.Get(gctx, client.ObjectKey{Namespace: wf.Namespace, Name: shardName(wf, i)}, tr)
				if apierrors.IsNotFound(err) || (err == nil && tr.Labels[kubeciv1.LabelWorkflowUID] != string(wf.UID)) {
					tr, err = nil, nil
				}
				if err != nil {
					return fmt.Errorf("reading shard %d of the record of acted-on changes: %w", i, err)
				}
				if tr != nil {
					r.shards.put(key, wf.UID, rec.shards, i, tr)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			rec.loaded[i] = map[string]string{}
			if tr != nil {
				rec.objects[i] = tr
				rec.loaded[i] = trigger.InShard(tr.Entries, i, rec.shards)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	rec.entries = map[string]string{}
	for _, entries := range rec.loaded {
		maps.Copy(rec.entries, entries)
	}
	return rec, nil
}

// recordWrite is how a decision is to be recorded.
type recordWrite struct {
	shards int                       // the shard count to record in the status
	inline map[string]string         // the status's entries (shards zero)
	writes map[int]map[string]string // the shards to write first
}

// planRecord says how to record changes to rec: in the status while the
// record is small, else in the shards they change, every shard when the
// record must grow (a split). whole says that growing needs the whole record,
// which rec does not hold (decide again over every object); a message says
// why the record cannot be kept.
func planRecord(l trigger.Limits, rec *record, c trigger.Changes) (w recordWrite, whole bool, msg string) {
	if rec.shards == 0 {
		inline := c.To(rec.entries)
		if !l.Overfull(0, len(inline), nil) {
			return recordWrite{inline: inline}, false, ""
		}
		return grow(l, 0, inline)
	}
	writes := trigger.Apply(rec.shards, rec.loaded, c)
	if !l.Overfull(rec.shards, 0, writes) {
		return recordWrite{shards: rec.shards, writes: writes}, false, ""
	}
	if !rec.whole {
		return recordWrite{}, true, ""
	}
	return grow(l, rec.shards, c.To(rec.entries))
}

// grow plans the split of entries, kept in shards, over more shards.
func grow(l trigger.Limits, shards int, entries map[string]string) (recordWrite, bool, string) {
	n, msg := l.Grow(shards, len(entries))
	if msg != "" {
		return recordWrite{}, false, msg
	}
	return recordWrite{shards: n, writes: trigger.Split(entries, shards, n)}, false, ""
}

// writeRecord writes the shards of w, each with an optimistic lock on the
// version read (a conflict makes the Workflow decide again), and then sets
// the status's part of the record, which the caller writes.
func (r *Reconciler) writeRecord(ctx context.Context, wf *kubeciv1.Workflow, rec *record, w recordWrite) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(writeParallelism)
	for i, entries := range w.writes {
		g.Go(func() error { return r.writeShard(gctx, wf, rec.objects[i], w.shards, i, entries) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	wf.Status.RecordShards = int32(w.shards)
	wf.Status.LastObservedResourceGeneration = w.inline
	if len(w.inline) == 0 {
		wf.Status.LastObservedResourceGeneration = nil
	}
	return nil
}

// writeShard writes shard i, of count shards, of wf's record: creates it, or
// updates the version read; and keeps what the API server returned for the
// next decision, or, when the write fails, forgets the shard.
func (r *Reconciler) writeShard(ctx context.Context, wf *kubeciv1.Workflow, read *kubeciv1.TriggerRecord, count, i int, entries map[string]string) error {
	tr := &kubeciv1.TriggerRecord{}
	if read != nil {
		tr = read.DeepCopy()
	} else {
		tr.Name, tr.Namespace = shardName(wf, i), wf.Namespace
		tr.Labels = map[string]string{kubeciv1.LabelWorkflowUID: string(wf.UID)}
		if err := controllerutil.SetControllerReference(wf, tr, r.Scheme()); err != nil {
			return err
		}
	}
	tr.Workflow, tr.Shard, tr.Entries = wf.Name, int32(i), entries
	var err error
	if read != nil {
		err = r.Update(ctx, tr)
	} else if err = r.Create(ctx, tr); apierrors.IsAlreadyExists(err) {
		err = r.replaceShard(ctx, wf, tr)
	}
	key := client.ObjectKeyFromObject(wf)
	if err != nil {
		r.shards.drop(key, i)
	} else {
		r.shards.put(key, wf.UID, count, i, tr)
	}
	if apierrors.IsConflict(err) {
		return fmt.Errorf("shard %d of the record changed since it was read; deciding again: %w", i, err)
	}
	if err != nil {
		return fmt.Errorf("writing shard %d of the record of acted-on changes: %w", i, err)
	}
	return nil
}

// replaceShard writes tr over a shard of the same name that was not read:
// one a split wrote before the operator stopped without recording the new
// shard count (it holds nothing in force), or one left by a deleted Workflow of
// the same name, which is deleted (and the Workflow decides again).
func (r *Reconciler) replaceShard(ctx context.Context, wf *kubeciv1.Workflow, tr *kubeciv1.TriggerRecord) error {
	old := &kubeciv1.TriggerRecord{}
	if err := r.reader.Get(ctx, client.ObjectKeyFromObject(tr), old); err != nil {
		return err
	}
	if old.Labels[kubeciv1.LabelWorkflowUID] != string(wf.UID) {
		if err := r.Delete(ctx, old, client.Preconditions{UID: &old.UID}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		return fmt.Errorf("deleted %s, a record of an earlier Workflow %s; deciding again", old.Name, wf.Name)
	}
	tr.ResourceVersion = old.ResourceVersion
	return r.Update(ctx, tr)
}
