package runlogs

import (
	"context"
	"errors"
	"fmt"
	"k8s.io/utils/clock"
	"time"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/plan"
)

// stepProgress is where the follower stands with one step's log.
type stepProgress int

const (
	progressPending   stepProgress = iota // not opened yet
	progressStreaming                     // being copied
	progressDone                          // copied to its end, or known to be missing
)

// streamEnd says a step's log ended, and how.
type streamEnd struct {
	step int
	err  error
}

// groupSteps splits steps (in plan order) into the groups whose logs are
// shown together: each serial step alone, each task's parallel steps as one
// group. It returns the indexes into steps of each group's members.
func groupSteps(steps []plan.TaskStep) [][]int {
	var groups [][]int
	for i, ts := range steps {
		if ts.Parallel && i > 0 && steps[i-1].Parallel && steps[i-1].Task == ts.Task {
			groups[len(groups)-1] = append(groups[len(groups)-1], i)
			continue
		}
		groups = append(groups, []int{i})
	}
	return groups
}

// Follow prints the logs of steps of Workplan name as the run goes,
// reading its states from updates: the groups of steps one after another, a
// step's log from the moment its container starts until it ends. It returns
// once every log has ended and the run has ended, with the run's last state.
func (f *Follower) Follow(ctx context.Context, name string, updates <-chan Update, steps []plan.TaskStep) (*kubeciv1.Workplan, error) {
	if f.Clock == nil {
		withClock := *f
		withClock.Clock = clock.RealClock{}
		f = &withClock
	}
	ctx, cancel := context.WithCancel(ctx)
	fl := &follow{Follower: f, steps: steps, groups: groupSteps(steps),
		progress: make([]stepProgress, len(steps)), notBefore: make([]time.Time, len(steps)),
		ended: make(chan streamEnd, len(steps)), gone: map[string]bool{}}
	defer func() {
		cancel()
		for ; fl.streaming > 0; fl.streaming-- {
			<-fl.ended
		}
	}()

	for news := 0; ; news++ {
		var retry <-chan time.Time
		if fl.wp != nil {
			wake := fl.advance(ctx)
			if fl.current == len(fl.groups) && fl.wp.Status.Phase.Finished() {
				return fl.wp, nil
			}
			if !wake.IsZero() {
				retry = f.Clock.After(wake.Sub(f.Clock.Now()))
			}
		}
		if f.Idle != nil {
			f.Idle(news)
		}
		select {
		case u, ok := <-updates:
			switch {
			case !ok:
				return fl.wp, errors.New("stopped receiving the run's state")
			case u.Err != nil:
				return fl.wp, u.Err
			case u.Workplan == nil && fl.wp == nil:
				return nil, fmt.Errorf("workplan %q not found", name)
			case u.Workplan == nil:
				return fl.wp, fmt.Errorf("workplan %s was %w while its logs were followed", name, ErrDeleted)
			}
			fl.wp = u.Workplan
		case e := <-fl.ended:
			fl.streaming--
			if err := fl.streamEnded(ctx, e); err != nil {
				return fl.wp, err
			}
		case <-retry:
		case <-ctx.Done():
			return fl.wp, ctx.Err()
		}
	}
}

// follow is the state of one Follow.
type follow struct {
	*Follower
	steps     []plan.TaskStep
	groups    [][]int
	current   int // the first group whose logs have not all ended
	progress  []stepProgress
	notBefore []time.Time // when a step's log may be opened again
	ended     chan streamEnd
	streaming int
	gone      map[string]bool // pods found deleted
	wp        *kubeciv1.Workplan
}

// advance opens the logs of the current group's steps that have started,
// notes those that will not run, and moves to the next group once every log
// of the current one has ended. It returns when to look again for a log that
// could not be opened yet (zero for none).
func (fl *follow) advance(ctx context.Context) time.Time {
	var wake time.Time
	for fl.current < len(fl.groups) {
		open := false
		for _, i := range fl.groups[fl.current] {
			switch fl.progress[i] {
			case progressStreaming:
				open = true
				continue
			case progressDone:
				continue
			}
			ts := fl.steps[i]
			stage, st := stageOf(fl.wp, ts)
			switch stage {
			case stageWaiting:
				open = true
			case stageNeverRan:
				fmt.Fprintln(fl.Notes, neverRanNote(fl.wp, ts, st))
				fl.progress[i] = progressDone
			case stageStarted:
				pod := podOf(fl.wp, ts)
				switch {
				case fl.gone[pod]:
					fl.progress[i] = progressDone
				case fl.Clock.Now().Before(fl.notBefore[i]):
					open = true
					if wake.IsZero() || fl.notBefore[i].Before(wake) {
						wake = fl.notBefore[i]
					}
				default:
					open = true
					fl.progress[i] = progressStreaming
					fl.streaming++
					go func(i int) {
						fl.ended <- streamEnd{step: i, err: fl.stream(ctx, pod, ts.Step.Name, true)}
					}(i)
				}
			}
		}
		if open {
			break
		}
		fl.current++
	}
	return wake
}

// streamEnded records that a step's log ended. A log the kubelet could not
// serve yet is opened again after retryDelay while the run goes on.
func (fl *follow) streamEnded(ctx context.Context, e streamEnd) error {
	ts := fl.steps[e.step]
	fl.progress[e.step] = progressDone
	switch {
	case e.err == nil:
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(e.err, ErrNotStarted) && !fl.wp.Status.Phase.Finished():
		fl.progress[e.step] = progressPending
		fl.notBefore[e.step] = fl.Clock.Now().Add(fl.RetryDelay)
	case errors.Is(e.err, ErrPodGone):
		if pod := podOf(fl.wp, ts); !fl.gone[pod] {
			fl.gone[pod] = true
			fmt.Fprintln(fl.Notes, goneNote(fl.wp, ts))
		}
	default:
		fmt.Fprintf(fl.Notes, "the log of step %s ended early: %v\n", ts.Step.Name, e.err)
	}
	return nil
}
