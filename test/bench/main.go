// Command bench measures Kube CI on a real kube-apiserver and etcd (the
// envtest binaries) with the operator running as its own process, and pods
// run by a simulated node: trigger latency, throughput, the operator's cost
// as Workflows and watched objects grow, and the planner. It prints a table,
// writes the figures as JSON and, with -doc, into docs/performance.md.
//
//	go run ./test/bench            # what `make bench` runs
//	go run ./test/bench -quick     # a fast smoke run with small loads
//
// It is a benchmark, not a test: it asserts nothing about timing, and fails
// only when something does not work at all.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/config/samples"
)

type options struct {
	out, doc, logDir, profileDir string
	operatorBinary               string
	profileSeconds               int
	groups                       map[string]bool
	reps                         int
	latencyCases                 []latencyCase
	latencyDuration              time.Duration
	throughputWindow             time.Duration
	inFlight                     int
	stepDuration                 time.Duration
	costCells                    []costCell
	costUpdates                  int
	compareWindow                time.Duration
	compareInFlight              int
	argoRequeue                  time.Duration
}

// bench is one run of the benchmarks.
type bench struct {
	opts           options
	root           string
	designDoc      *kubeciv1.Workflow
	operatorBinary string
	log            io.Writer

	// Argo's workflow-controller and the folder of its CRDs (group argo).
	argoBinary, argoCRDs string

	// The control plane, operator and node simulator of the group running.
	cluster  *cluster
	operator *operator
	sim      *nodeSim
}

func main() {
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runBench(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o options
	var groups, cells, latency string
	var quick bool
	fs.StringVar(&o.out, "out", "bin/bench/results.json", "File the results are written to, as JSON.")
	fs.StringVar(&o.doc, "doc", "", "Markdown file whose generated section (between <!-- bench:begin --> and <!-- bench:end -->) gets the results table, e.g. docs/performance.md.")
	fs.StringVar(&o.logDir, "logs", "bin/bench/logs", "Folder for the operators' logs.")
	fs.StringVar(&o.profileDir, "profile", "", "When set, save the operator's CPU profiles during the throughput runs and heap profiles after the cost runs into this folder.")
	fs.StringVar(&o.operatorBinary, "operator", "", "Run this operator binary instead of building bin/kubeci-operator (to compare builds).")
	fs.IntVar(&o.profileSeconds, "profile-seconds", 30, "Length of each CPU profile.")
	fs.StringVar(&groups, "groups", "planner,latency,throughput,cost,argo", "Groups of figures to measure (argo: Kube CI and Argo Workflows side by side).")
	fs.IntVar(&o.reps, "reps", 3, "Runs of each figure; the tables show their median, min and max.")
	fs.StringVar(&latency, "latency", "10/1/1000,50/1/1000,200/1/1000,10/10/1000,10/1/100000,50/1/100000", "Trigger latency cases, as UPDATES_PER_SECOND/WORKFLOWS/CONFIGMAPS.")
	fs.DurationVar(&o.latencyDuration, "latency-duration", 8*time.Second, "How long each latency case updates ConfigMaps.")
	fs.DurationVar(&o.throughputWindow, "throughput-window", 2*time.Minute, "How long each throughput run lasts.")
	fs.IntVar(&o.inFlight, "in-flight", 50, "Workplans the throughput benchmark keeps started and unfinished.")
	fs.DurationVar(&o.stepDuration, "step-duration", 0, "How long each simulated step runs.")
	fs.StringVar(&cells, "cost", "10x10,10x1000,100x1000,1000x1000,1000x10000,1000x100000", "Cost cells, as WORKFLOWSxCONFIGMAPS.")
	fs.IntVar(&o.costUpdates, "cost-updates", 100, "ConfigMap updates (runs) after each cost run's start-up.")
	fs.DurationVar(&o.compareWindow, "argo-window", time.Minute, "How long each run of the argo group (Kube CI and Argo Workflows side by side) lasts.")
	fs.IntVar(&o.compareInFlight, "argo-in-flight", 50, "Runs the argo group keeps submitted and unfinished, for each engine.")
	fs.DurationVar(&o.argoRequeue, "argo-requeue", 0, "When set, Argo's DEFAULT_REQUEUE_TIME (how soon it looks at a Workflow again after an event; Argo's default is 10s).")
	fs.BoolVar(&quick, "quick", false, "Small loads and one run of each, to check that everything works (-doc is ignored).")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if quick {
		o.reps, o.latencyDuration, o.throughputWindow, o.costUpdates = 1, 3*time.Second, 15*time.Second, 20
		o.compareWindow = 20 * time.Second
		latency, cells = "10/1/100,50/2/100", "10x10,100x1000"
		o.doc = "" // smoke figures are not the figures
	}
	o.groups = map[string]bool{}
	for _, g := range splitList(groups) {
		switch g {
		case "planner", "latency", "throughput", "cost", "argo":
			o.groups[g] = true
		default:
			return o, fmt.Errorf("-groups: unknown group %q (planner, latency, throughput, cost, argo)", g)
		}
	}
	var err error
	if o.latencyCases, err = parseLatencyCases(latency); err != nil {
		return o, err
	}
	if o.costCells, err = parseCells(cells); err != nil {
		return o, err
	}
	if o.reps < 1 || o.inFlight < 1 || o.compareInFlight < 1 {
		return o, fmt.Errorf("-reps and -in-flight must be at least 1")
	}
	return o, nil
}

func parseLatencyCases(s string) ([]latencyCase, error) {
	var out []latencyCase
	for _, part := range splitList(s) {
		var lc latencyCase
		if _, err := fmt.Sscanf(part, "%d/%d/%d", &lc.Rate, &lc.Workflows, &lc.ConfigMaps); err != nil ||
			lc.Rate < 1 || lc.Workflows < 1 || lc.ConfigMaps < 1 {
			return nil, fmt.Errorf("latency case %q: want UPDATES_PER_SECOND/WORKFLOWS/CONFIGMAPS, for example 50/1/1000", part)
		}
		out = append(out, lc)
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func runBench(ctx context.Context, opts options) error {
	// envtest logs through controller-runtime and klog: keep them quiet.
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)

	b := &bench{opts: opts, log: os.Stderr}
	var err error
	if b.root, err = os.Getwd(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(b.root, "go.mod")); err != nil {
		return fmt.Errorf("run the benchmarks from the repository's root folder (make bench): %w", err)
	}
	b.designDoc = samples.Workflow()
	started := time.Now()
	res := &Results{Date: started.UTC(), Commit: gitCommit(b.root), Machine: machine(),
		Simulator: simulatorNote, Options: describeOptions(opts)}

	if opts.groups["planner"] {
		b.logf("planner: go test -bench BenchmarkPlan ./internal/plan")
		if res.Planner, err = b.plannerGroup(ctx); err != nil {
			return err
		}
	}
	if opts.groups["latency"] || opts.groups["throughput"] || opts.groups["cost"] || opts.groups["argo"] {
		b.operatorBinary = opts.operatorBinary
		if b.operatorBinary == "" {
			b.logf("building bin/kubeci-operator")
			if b.operatorBinary, err = buildOperator(ctx, b.root); err != nil {
				return err
			}
		}
	}
	if opts.groups["latency"] {
		if res.Latency, err = b.latencyGroup(ctx); err != nil {
			return err
		}
	}
	if opts.groups["throughput"] {
		res.Throughput, err = withCluster(ctx, b, "throughput", func(ctx context.Context) (*ThroughputResult, error) {
			if err := b.startSimulator(ctx); err != nil {
				return nil, err
			}
			if err := b.startOperator(ctx, "throughput"); err != nil {
				return nil, err
			}
			return b.throughputGroup(ctx)
		})
		if err != nil {
			return err
		}
	}
	if opts.groups["cost"] {
		if res.Cost, err = b.costGroup(ctx); err != nil {
			return err
		}
	}
	if opts.groups["argo"] {
		if res.Compare, err = b.compareGroup(ctx); err != nil {
			return err
		}
	}
	res.DurationSeconds = time.Since(started).Seconds()

	table := renderText(res)
	fmt.Print(table)
	if err := writeJSON(opts.out, res); err != nil {
		return err
	}
	b.logf("wrote %s", opts.out)
	if opts.doc != "" {
		if err := updateDoc(opts.doc, renderMarkdown(res)); err != nil {
			return err
		}
		b.logf("updated %s", opts.doc)
	}
	return nil
}

// withCluster runs f with a fresh control plane in b.cluster, and stops it,
// the operator and the node simulator f started afterwards.
func withCluster[T any](ctx context.Context, b *bench, label string, f func(context.Context) (T, error)) (T, error) {
	var zero T
	dir, err := os.MkdirTemp("", "kubeci-bench-"+label+"-")
	if err != nil {
		return zero, err
	}
	defer os.RemoveAll(dir)
	b.logf("%s: starting kube-apiserver and etcd", label)
	if b.cluster, err = startCluster(dir); err != nil {
		return zero, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		if b.operator != nil {
			if err := b.operator.stop(); err != nil {
				b.logf("%s: stopping the operator: %v", label, err)
			}
			b.operator = nil
		}
		cancel() // stops the simulator and the harness's watches
		b.sim = nil
		if err := b.cluster.stop(); err != nil {
			b.logf("%s: stopping the control plane: %v", label, err)
		}
		b.cluster = nil
	}()
	return f(ctx)
}

// startOperator starts the operator of the current group.
func (b *bench) startOperator(ctx context.Context, label string) error {
	op, err := startOperator(ctx, b.operatorBinary, b.cluster.kubeconfig, b.opts.logDir, label)
	if err != nil {
		return err
	}
	b.operator = op
	return nil
}

// startSimulator starts the node simulator of the current group.
func (b *bench) startSimulator(ctx context.Context) error {
	return b.runSimulator(ctx, newNodeSim(b.cluster.kube, b.cluster.client, b.opts.stepDuration))
}

// runSimulator starts sim as the node simulator of the current group.
func (b *bench) runSimulator(ctx context.Context, sim *nodeSim) error {
	b.sim = sim
	errs := make(chan error, 1)
	go func() { errs <- b.sim.run(ctx) }()
	// The node must exist before the first pod needs it.
	return poll(ctx, 50*time.Millisecond, 30*time.Second, "the simulated node", func() (bool, error) {
		select {
		case err := <-errs:
			return false, fmt.Errorf("node simulator: %w", err)
		default:
		}
		_, err := b.cluster.kube.CoreV1().Nodes().Get(ctx, simNodeName, metav1.GetOptions{})
		return err == nil, nil
	})
}

// pids names the processes whose CPU time is measured.
func (b *bench) pids() map[string]int {
	return map[string]int{
		"kube-apiserver": b.cluster.apiserverPID,
		"etcd":           b.cluster.etcdPID,
		"operator":       b.operator.pid(),
		"harness":        os.Getpid(),
	}
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// simulatorNote says how pods are run, for the results.
const simulatorNote = "the harness's own node simulator (test/bench/node.go): one Ready node; pods bound through pods/binding, " +
	"each container state change written to pods/status as a kubelet would (a native sidecar starts and stops with the writes around it); " +
	"no kube-scheduler, no kubelet, no kwok"

func gitCommit(root string) string {
	out, err := exec.Command("git", "-C", root, "describe", "--always", "--dirty").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// Machine describes where the figures were measured.
type Machine struct {
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"goVersion"`
	Kernel    string `json:"kernel"`
	// LoadAverage at the start: other work on a shared machine.
	LoadAverage string `json:"loadAverage"`
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAverage = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	return m
}

func describeOptions(o options) map[string]string {
	var cases, cells []string
	for _, lc := range o.latencyCases {
		cases = append(cases, fmt.Sprintf("%d/%d/%d", lc.Rate, lc.Workflows, lc.ConfigMaps))
	}
	for _, c := range o.costCells {
		cells = append(cells, c.String())
	}
	return map[string]string{
		"reps": strconv.Itoa(o.reps), "latency": strings.Join(cases, ","), "latencyDuration": o.latencyDuration.String(),
		"throughputWindow": o.throughputWindow.String(), "inFlight": strconv.Itoa(o.inFlight),
		"stepDuration": o.stepDuration.String(), "cost": strings.Join(cells, ","), "costUpdates": strconv.Itoa(o.costUpdates),
		"argoWindow": o.compareWindow.String(), "argoInFlight": strconv.Itoa(o.compareInFlight), "argoRequeue": o.argoRequeue.String(),
	}
}

func writeJSON(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
