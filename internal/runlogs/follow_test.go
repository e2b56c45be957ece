package runlogs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/manifest"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/testenv"
)

// Unit tests of the log follower: the order, prefixes and following logic,
// with scripted container logs in place of the kubelet.

// waitTimeout is how long a test waits for a log to be opened.
const waitTimeout = testenv.WaitTimeout

// sampleWorkflow is the design doc's example.
const sampleWorkflow = "../../config/samples/kube.ci_v1alpha1_workflow.yaml"

var manual = kubeciv1.TriggerEvent{Event: kubeciv1.EventManual}

// fakeStreams serves scripted container logs, keyed "pod/container".
type fakeStreams struct {
	mu sync.Mutex
	// text is what a container has logged, served without follow.
	text map[string]string
	// errs are returned by the first opens of a log, in order.
	errs map[string][]error
	// pipes are the followed logs: the test writes lines and closes them.
	pipes  map[string]*io.PipeWriter
	opened chan string // each followed log opened
}

func newFakeStreams() *fakeStreams {
	return &fakeStreams{text: map[string]string{}, errs: map[string][]error{}, pipes: map[string]*io.PipeWriter{},
		opened: make(chan string, 100)}
}

func (f *fakeStreams) Open(_ context.Context, pod, container string, follow bool) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := pod + "/" + container
	if errs := f.errs[key]; len(errs) > 0 {
		f.errs[key] = errs[1:]
		return nil, errs[0]
	}
	if !follow {
		return io.NopCloser(strings.NewReader(f.text[key])), nil
	}
	r, w := io.Pipe()
	f.pipes[key] = w
	f.opened <- key
	return r, nil
}

// pipe returns the writer of a followed log once it has been opened.
func (f *fakeStreams) pipe(t *testing.T, key string) *io.PipeWriter {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		f.mu.Lock()
		w := f.pipes[key]
		f.mu.Unlock()
		if w != nil {
			return w
		}
		select {
		case <-f.opened:
		case <-deadline:
			t.Fatalf("the log of %s was never opened", key)
		}
	}
}

// opens counts the followed logs opened.
func (f *fakeStreams) opens() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pipes)
}

func (f *fakeStreams) isOpen(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pipes[key] != nil
}

// testRun is a Workplan of the design doc's example, named run: task 0 runs
// step-1 (serial), step-2 and step-3 (parallel); task 1 runs step-4
// (serial) and step-5 (parallel).
func testRun(t *testing.T) *kubeciv1.Workplan {
	t.Helper()
	docs, err := manifest.LoadFile(sampleWorkflow, nil)
	if err != nil || len(docs) != 1 || docs[0].Err != nil {
		t.Fatalf("loading %s: %v %v", sampleWorkflow, err, docs)
	}
	wp, err := plan.NewWorkplan(docs[0].Workflow, manual, "run")
	if err != nil {
		t.Fatal(err)
	}
	return wp
}

// withSteps returns a copy of wp in phase p with the given step phases.
func withSteps(wp *kubeciv1.Workplan, p kubeciv1.WorkplanPhase, steps map[string]kubeciv1.StepPhase) *kubeciv1.Workplan {
	wp = wp.DeepCopy()
	wp.Status.Phase = p
	started := metav1.Now()
	for _, ts := range plan.Steps(wp.Spec.Tasks) {
		st := kubeciv1.StepStatus{Name: ts.Step.Name, Task: int32(ts.Task), Phase: kubeciv1.StepWaiting}
		if phase, ok := steps[ts.Step.Name]; ok {
			st.Phase = phase
		}
		if st.Phase == kubeciv1.StepRunning || st.Phase == kubeciv1.StepSucceeded {
			st.StartTime = &started
		}
		wp.Status.Steps = append(wp.Status.Steps, st)
	}
	return wp
}

func newTestFollower(streams Streamer, out, notes io.Writer) *Follower {
	return &Follower{Streams: streams, Out: NewLinePrinter(out, false, nil), Notes: notes, RetryDelay: 10 * time.Millisecond,
		Clock: clocktesting.NewFakeClock(time.Now())}
}

// idleFollower is a follower that reports when it is idle.
type idleFollower struct {
	*Follower
	clock *clocktesting.FakeClock
	news  chan int // the news the follower had when idle
}

func newIdleFollower(streams Streamer, out, notes io.Writer) *idleFollower {
	f := &idleFollower{Follower: newTestFollower(streams, out, notes), news: make(chan int, 1000)}
	f.clock = f.Follower.Clock.(*clocktesting.FakeClock)
	f.Follower.Idle = func(news int) { f.news <- news }
	return f
}

// waitIdle waits until the follower has acted on n pieces of news (states of
// the run, ends of logs, retries) and waits for more. It fails at once when
// following ends instead.
func (f *idleFollower) waitIdle(t *testing.T, n int, ended <-chan error) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case got := <-f.news:
			if got >= n {
				return
			}
		case err := <-ended:
			t.Fatalf("following ended (%v) instead of waiting after %d pieces of news", err, n)
		case <-deadline:
			t.Fatalf("the follower never waited after %d pieces of news", n)
		}
	}
}

var allSucceeded = map[string]kubeciv1.StepPhase{"step-1": kubeciv1.StepSucceeded, "step-2": kubeciv1.StepSucceeded,
	"step-3": kubeciv1.StepSucceeded, "step-4": kubeciv1.StepSucceeded, "step-5": kubeciv1.StepSucceeded}

func TestPrintLogsInPlanOrder(t *testing.T) {
	wp := withSteps(testRun(t), kubeciv1.WorkplanCompleted, allSucceeded)
	streams := newFakeStreams()
	for i, step := range []string{"step-5", "step-4", "step-3", "step-2", "step-1"} {
		pod := "run-task-0"
		if step == "step-4" || step == "step-5" {
			pod = "run-task-1"
		}
		streams.text[pod+"/"+step] = fmt.Sprintf("hello from %s\nline %d", step, i) // the last line lacks its newline
	}
	var out, notes strings.Builder
	f := newTestFollower(streams, &out, &notes)
	if err := f.Print(context.Background(), wp, plan.Steps(wp.Spec.Tasks)); err != nil {
		t.Fatal(err)
	}
	want := `step-1 | hello from step-1
step-1 | line 4
step-2 | hello from step-2
step-2 | line 3
step-3 | hello from step-3
step-3 | line 2
step-4 | hello from step-4
step-4 | line 1
step-5 | hello from step-5
step-5 | line 0
`
	if out.String() != want || notes.String() != "" {
		t.Errorf("got:\n%s\nnotes: %q\nwant:\n%s", out.String(), notes.String(), want)
	}
}

func TestPrintLogsExplainsMissingLogs(t *testing.T) {
	wp := withSteps(testRun(t), kubeciv1.WorkplanFailed, map[string]kubeciv1.StepPhase{
		"step-1": kubeciv1.StepSucceeded, "step-2": kubeciv1.StepSucceeded, "step-3": kubeciv1.StepRunning,
		"step-4": kubeciv1.StepSkipped, "step-5": kubeciv1.StepFailed})
	wp.Status.Steps[4].Message = "image not found"
	streams := newFakeStreams()
	streams.errs["run-task-0/step-1"] = []error{ErrPodGone}
	streams.errs["run-task-0/step-2"] = []error{ErrPodGone}
	streams.errs["run-task-0/step-3"] = []error{ErrPodGone}
	var out, notes strings.Builder
	f := newTestFollower(streams, &out, &notes)
	if err := f.Print(context.Background(), wp, plan.Steps(wp.Spec.Tasks)); err != nil {
		t.Fatal(err)
	}
	// One note for the deleted pod of task 0, one for each step without a log.
	want := `the logs of task 0 are gone: its pod run-task-0 was deleted (pods go when a run is cleaned up or its history pruned)
step step-4 did not run: the run ended (Failed) before it started
step step-5 failed without starting: image not found
`
	if out.String() != "" || notes.String() != want {
		t.Errorf("got output %q, notes:\n%s\nwant notes:\n%s", out.String(), notes.String(), want)
	}
}

func TestPrintLogsOfOneStep(t *testing.T) {
	wp := withSteps(testRun(t), kubeciv1.WorkplanRunning, map[string]kubeciv1.StepPhase{"step-1": kubeciv1.StepRunning})
	streams := newFakeStreams()
	streams.text["run-task-0/step-1"] = "building\n"
	var out, notes strings.Builder
	f := newTestFollower(streams, &out, &notes)

	steps, err := SelectSteps(wp, "step-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Print(context.Background(), wp, steps); err != nil || out.String() != "step-1 | building\n" {
		t.Errorf("step-1: %v, %q", err, out.String())
	}

	steps, _ = SelectSteps(wp, "step-4")
	err = f.Print(context.Background(), wp, steps)
	if want := "step step-4 has not started yet (kubeci logs -f follows the run)"; err == nil || err.Error() != want {
		t.Errorf("a step that has not started: got %v, want %q", err, want)
	}

	_, err = SelectSteps(wp, "step-9")
	if want := `workplan run has no step "step-9"; its steps are: step-1, step-2, step-3, step-4, step-5`; err == nil || err.Error() != want {
		t.Errorf("an unknown step: got %v, want %q", err, want)
	}
}

// syncBuilder is a strings.Builder written by the follower's goroutines.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the output ends with suffix.
func waitFor(t *testing.T, out *syncBuilder, suffix string) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("output ending in %q", suffix), func() error {
		if !strings.HasSuffix(out.String(), suffix) {
			return errors.New("output so far:\n" + out.String())
		}
		return nil
	})
}

// writeLine writes a line to a followed log.
func writeLine(t *testing.T, w *io.PipeWriter, line string) {
	t.Helper()
	if _, err := io.WriteString(w, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// TestFollowLogs follows a whole run: tasks one after another, a serial
// step's log before the next step's, parallel steps interleaved as their
// lines come, a log the kubelet cannot serve yet retried, a step the run never
// reached noted, and the end when the run ends.
func TestFollowLogs(t *testing.T) {
	base := testRun(t)
	streams := newFakeStreams()
	streams.errs["run-task-1/step-4"] = []error{fmt.Errorf("%w: container is waiting to start", ErrNotStarted)}
	var out, notes syncBuilder
	f := newIdleFollower(streams, &out, &notes)
	updates := make(chan Update)
	type result struct {
		wp  *kubeciv1.Workplan
		err error
	}
	done, ended := make(chan result, 1), make(chan error, 1)
	go func() {
		wp, err := f.Follow(context.Background(), "run", updates, plan.Steps(base.Spec.Tasks))
		ended <- err
		done <- result{wp, err}
	}()
	state := func(p kubeciv1.WorkplanPhase, steps map[string]kubeciv1.StepPhase) {
		updates <- Update{Workplan: withSteps(base, p, steps)}
	}
	S, R, W := kubeciv1.StepSucceeded, kubeciv1.StepRunning, kubeciv1.StepWaiting

	state(kubeciv1.WorkplanPending, nil)
	state(kubeciv1.WorkplanRunning, map[string]kubeciv1.StepPhase{"step-1": R})
	step1 := streams.pipe(t, "run-task-0/step-1")
	writeLine(t, step1, "compiling")
	waitFor(t, &out, "step-1 | compiling\n")

	// step-2 and step-3 start while step-1's log has not ended yet: they wait
	// for it, so serial steps' logs never mix. The follower has had three
	// states of the run and nothing else.
	state(kubeciv1.WorkplanRunning, map[string]kubeciv1.StepPhase{"step-1": S, "step-2": R, "step-3": R})
	f.waitIdle(t, 3, ended)
	if streams.isOpen("run-task-0/step-2") || streams.isOpen("run-task-0/step-3") || streams.opens() != 1 {
		t.Fatal("the parallel steps' logs were opened before step-1's ended")
	}
	writeLine(t, step1, "done")
	step1.Close()
	step2, step3 := streams.pipe(t, "run-task-0/step-2"), streams.pipe(t, "run-task-0/step-3")
	writeLine(t, step3, "three a")
	waitFor(t, &out, "step-3 | three a\n")
	writeLine(t, step2, "two a")
	waitFor(t, &out, "step-2 | two a\n")
	writeLine(t, step3, "three b")
	waitFor(t, &out, "step-3 | three b\n")
	step3.Close()
	writeLine(t, step2, "two b")
	waitFor(t, &out, "step-2 | two b\n")

	// Task 1's step starts while step-2 still logs; its first open finds the
	// container not started yet and is retried once retryDelay has passed.
	state(kubeciv1.WorkplanRunning, map[string]kubeciv1.StepPhase{"step-1": S, "step-2": S, "step-3": S, "step-4": R})
	step2.Close()
	testenv.Eventually(t, "the follower waiting to retry the log of step-4", func() error {
		if !f.clock.HasWaiters() {
			return errors.New("no retry scheduled")
		}
		return nil
	})
	if streams.isOpen("run-task-1/step-4") {
		t.Fatal("the log of step-4 was opened again before retryDelay passed")
	}
	f.clock.Step(f.RetryDelay)
	step4 := streams.pipe(t, "run-task-1/step-4")
	writeLine(t, step4, "deploying")
	waitFor(t, &out, "step-4 | deploying\n")
	step4.Close()

	// The run is cancelled before step-5 starts.
	state(kubeciv1.WorkplanFailed, map[string]kubeciv1.StepPhase{"step-1": S, "step-2": S, "step-3": S, "step-4": S, "step-5": W})
	r := <-done
	if r.err != nil || r.wp == nil || r.wp.Status.Phase != kubeciv1.WorkplanFailed {
		t.Fatalf("Follow ended with %v, %v", r.wp, r.err)
	}
	want := `step-1 | compiling
step-1 | done
step-3 | three a
step-2 | two a
step-3 | three b
step-2 | two b
step-4 | deploying
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	if want := "step step-5 did not run: the run ended (Failed) before it started\n"; notes.String() != want {
		t.Errorf("notes: got %q, want %q", notes.String(), want)
	}
}

// After the last log ends, following goes on until the run has ended.
func TestFollowLogsEndsWithTheRun(t *testing.T) {
	base := testRun(t)
	streams := newFakeStreams()
	var out, notes syncBuilder
	f := newIdleFollower(streams, &out, &notes)
	updates := make(chan Update, 10)
	steps, _ := SelectSteps(base, "step-1")
	done := make(chan error, 1)
	go func() {
		_, err := f.Follow(context.Background(), "run", updates, steps)
		done <- err
	}()
	updates <- Update{Workplan: withSteps(base, kubeciv1.WorkplanRunning, map[string]kubeciv1.StepPhase{"step-1": kubeciv1.StepRunning})}
	streams.pipe(t, "run-task-0/step-1").Close()
	// Two pieces of news, the running state and the end of the log: the
	// follower goes on waiting for the run to end.
	f.waitIdle(t, 2, done)
	updates <- Update{Workplan: withSteps(base, kubeciv1.WorkplanCompleted, allSucceeded)}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestFollowLogsErrors(t *testing.T) {
	base := testRun(t)
	running := withSteps(base, kubeciv1.WorkplanRunning, map[string]kubeciv1.StepPhase{"step-1": kubeciv1.StepRunning})
	for _, c := range []struct {
		name    string
		updates []Update
		want    string
	}{
		{"not found", []Update{{}}, `workplan "run" not found`},
		{"deleted", []Update{{Workplan: base}, {}}, "workplan run was deleted while its logs were followed"},
		{"watch failed", []Update{{Workplan: base}, {Err: errors.New("forbidden")}}, "forbidden"},
	} {
		t.Run(c.name, func(t *testing.T) {
			updates := make(chan Update, len(c.updates))
			for _, u := range c.updates {
				updates <- u
			}
			f := newTestFollower(newFakeStreams(), io.Discard, io.Discard)
			_, err := f.Follow(context.Background(), "run", updates, plan.Steps(base.Spec.Tasks))
			if err == nil || err.Error() != c.want {
				t.Errorf("got %v, want %q", err, c.want)
			}
		})
	}

	// A pod deleted while followed (the run lost it): noted once, and the run's
	// end still ends following.
	streams := newFakeStreams()
	streams.errs["run-task-0/step-2"] = []error{ErrPodGone}
	streams.errs["run-task-0/step-3"] = []error{ErrPodGone}
	var notes syncBuilder
	f := newTestFollower(streams, io.Discard, &notes)
	updates := make(chan Update, 10)
	updates <- Update{Workplan: running}
	done := make(chan error, 1)
	go func() {
		_, err := f.Follow(context.Background(), "run", updates, plan.Steps(base.Spec.Tasks))
		done <- err
	}()
	streams.pipe(t, "run-task-0/step-1").Close()
	updates <- Update{Workplan: withSteps(base, kubeciv1.WorkplanRunning, map[string]kubeciv1.StepPhase{
		"step-1": kubeciv1.StepSucceeded, "step-2": kubeciv1.StepRunning, "step-3": kubeciv1.StepRunning})}
	waitFor(t, &notes, "its pod run-task-0 was deleted (pods go when a run is cleaned up or its history pruned)\n")
	lost := withSteps(base, kubeciv1.WorkplanFailed, map[string]kubeciv1.StepPhase{
		"step-1": kubeciv1.StepSucceeded, "step-2": kubeciv1.StepFailed, "step-3": kubeciv1.StepFailed,
		"step-4": kubeciv1.StepSkipped, "step-5": kubeciv1.StepSkipped})
	updates <- Update{Workplan: lost}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(notes.String(), "was deleted"); n != 1 {
		t.Errorf("want the deleted pod noted once, got:\n%s", notes.String())
	}
}
