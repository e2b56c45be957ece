package workflow

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	triggerEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubeci_trigger_events_total",
		Help: "Informer events seen for Workflows watching their kind, by result: filtered (no trigger matches), duplicate (the resource generation did not change: status-only, metadata-only updates, resyncs) or accepted (the Workflow decides).",
	}, []string{"result"})

	triggerDecisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubeci_trigger_decisions_total",
		Help: "Objects considered by Workflow reconciles, by result: fired (a run started), unchanged (already acted on: duplicate suppressed), baselined (existed before the triggers) or forgotten (stopped matching).",
	}, []string{"result"})

	workplansCreated = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubeci_workplans_created_total",
		Help: "Workplans created by the Workflow controller, by trigger event (Added, Updated, Deleted, Manual).",
	}, []string{"event"})

	triggerLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kubeci_trigger_latency_seconds",
		Help:    "Time from the informer event of a change to the Workplan it started being created.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})

	sharedInformers = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kubeci_trigger_informers",
		Help: "Shared dynamic informers (one watch each) the Workflow controller runs.",
	})
)

func init() {
	metrics.Registry.MustRegister(triggerEvents, triggerDecisions, workplansCreated, triggerLatency, sharedInformers)
}
