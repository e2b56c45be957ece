package workplan

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// Pod kinds of the kubeci_pods_created_total metric.
const (
	podKindTask    = "task"
	podKindCleanup = "cleanup"
)

// durationBuckets span a second to about nine hours.
var durationBuckets = prometheus.ExponentialBuckets(1, 2, 16)

var (
	// runDuration observes each run once it ends, from its Workplan's
	// creation (when its deadline starts counting) to its end, by outcome
	// (the Succeeded condition's reason: Completed, StepFailed, Cancelled...).
	runDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kubeci_workplan_duration_seconds",
		Help:    "How long Workplans took, from creation to their end, by result (the reason of their Succeeded condition).",
		Buckets: durationBuckets,
	}, []string{"result"})
	// taskDuration observes each task once it ends, from its first step's
	// start to its last step's end.
	taskDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kubeci_task_duration_seconds",
		Help:    "How long tasks ran, from their first step's start to their last step's end, by result (succeeded or failed).",
		Buckets: durationBuckets,
	}, []string{"result"})
	// podsCreated counts the pods the controller created (not those it found
	// already created, for example after a restart).
	podsCreated = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubeci_pods_created_total",
		Help: "Pods created by the Workplan controller, by kind (task or cleanup).",
	}, []string{"kind"})
	// phases counts the Workplans this process has reconciled, by phase.
	phases = newPhaseCollector()
)

func init() {
	metrics.Registry.MustRegister(runDuration, taskDuration, podsCreated, phases)
}

// phaseCollector reports how many Workplans are in each phase
// (kubeci_workplans) and how many have not ended (kubeci_workplans_running),
// from the last phase each reconcile saw. When the operator starts it
// reconciles every Workplan, so the counts are whole after a restart; a
// Workplan is forgotten once it is gone.
type phaseCollector struct {
	byPhase *prometheus.Desc
	running *prometheus.Desc

	mu     sync.Mutex
	phases map[types.NamespacedName]kubeciv1.WorkplanPhase
}

func newPhaseCollector() *phaseCollector {
	return &phaseCollector{
		byPhase: prometheus.NewDesc("kubeci_workplans",
			"Workplans by phase (Pending, Running, Completed, Failed).", []string{"phase"}, nil),
		running: prometheus.NewDesc("kubeci_workplans_running",
			"Workplans that have not ended (Pending or Running).", nil, nil),
		phases: map[types.NamespacedName]kubeciv1.WorkplanPhase{},
	}
}

// observe records wp's current phase.
func (c *phaseCollector) observe(wp *kubeciv1.Workplan) {
	phase := wp.Status.Phase
	if phase == "" {
		phase = kubeciv1.WorkplanPending
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.phases[types.NamespacedName{Namespace: wp.Namespace, Name: wp.Name}] = phase
}

// forget drops a Workplan that is gone.
func (c *phaseCollector) forget(key types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.phases, key)
}

// Describe implements prometheus.Collector.
func (c *phaseCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.byPhase
	ch <- c.running
}

// Collect implements prometheus.Collector.
func (c *phaseCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[kubeciv1.WorkplanPhase]int{}
	c.mu.Lock()
	for _, p := range c.phases {
		counts[p]++
	}
	c.mu.Unlock()
	for _, p := range []kubeciv1.WorkplanPhase{kubeciv1.WorkplanPending, kubeciv1.WorkplanRunning, kubeciv1.WorkplanCompleted, kubeciv1.WorkplanFailed} {
		ch <- prometheus.MustNewConstMetric(c.byPhase, prometheus.GaugeValue, float64(counts[p]), string(p))
	}
	ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, float64(counts[kubeciv1.WorkplanPending]+counts[kubeciv1.WorkplanRunning]))
}

// observeDurations feeds the duration histograms with what ended between two
// statuses of wp: its tasks, and the run itself.
func observeDurations(old *kubeciv1.WorkplanStatus, wp *kubeciv1.Workplan) {
	cur := &wp.Status
	for _, result := range endedTasks(old, cur) {
		taskDuration.WithLabelValues(result.outcome).Observe(result.duration.Seconds())
	}
	if cur.Phase.Finished() && !old.Phase.Finished() && cur.CompletionTime != nil {
		result := ""
		if c := meta.FindStatusCondition(cur.Conditions, kubeciv1.ConditionSucceeded); c != nil {
			result = c.Reason
		}
		runDuration.WithLabelValues(result).Observe(cur.CompletionTime.Sub(wp.CreationTimestamp.Time).Seconds())
	}
}

// taskResult is how a task ended.
type taskResult struct {
	outcome  string
	duration time.Duration
}

// endedTasks are the tasks whose steps had all ended in cur but not in old,
// with how long they ran (steps that never ran are left out).
func endedTasks(old, cur *kubeciv1.WorkplanStatus) map[int32]taskResult {
	wasEnded := tasksEnded(old)
	out := map[int32]taskResult{}
	for task, ended := range tasksEnded(cur) {
		if !ended || wasEnded[task] {
			continue
		}
		var first, last time.Time
		outcome := "succeeded"
		for _, s := range cur.Steps {
			if s.Task != task {
				continue
			}
			if s.Phase != kubeciv1.StepSucceeded {
				outcome = "failed"
			}
			if s.StartTime != nil && (first.IsZero() || s.StartTime.Time.Before(first)) {
				first = s.StartTime.Time
			}
			if s.FinishTime != nil && s.FinishTime.Time.After(last) {
				last = s.FinishTime.Time
			}
		}
		if !first.IsZero() && !last.Before(first) {
			out[task] = taskResult{outcome: outcome, duration: last.Sub(first)}
		}
	}
	return out
}

// tasksEnded tells, for each task with steps in st, whether all of them ended.
func tasksEnded(st *kubeciv1.WorkplanStatus) map[int32]bool {
	out := map[int32]bool{}
	for _, s := range st.Steps {
		ended := s.Phase == kubeciv1.StepSucceeded || s.Phase == kubeciv1.StepFailed || s.Phase == kubeciv1.StepSkipped
		if prev, ok := out[s.Task]; ok {
			ended = ended && prev
		}
		out[s.Task] = ended
	}
	return out
}
