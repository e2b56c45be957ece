package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation/field"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/local"
	"github.com/kubeci/kubeci/internal/manifest"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/steplog"
)

// Exit codes of kubeci run.
const (
	// runStepFailed: a step failed or timed out.
	runStepFailed = 1
	// runNotRun: nothing ran (bad flags or file, invalid workflow, no working
	// runtime).
	runNotRun = 2
)

// stopGrace is how long a stopped step has between SIGTERM and SIGKILL.
const stopGrace = 5 * time.Second

type runFlags struct {
	files         []string
	runtime       string
	workspace     string
	keepWorkspace bool
	stepTimeout   time.Duration
	output        string
	images        []string
	triggerObject string
	fields        []string
}

func newRunCommand(o *Options) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run -f FILE [--runtime auto|oci|host|docker|podman] [--image FROM=TO] [--trigger-object FILE [--field PATH]] [--workspace DIR] [--keep-workspace] [--step-timeout D] [-o text|json]",
		Short: "Run a Workflow on this machine, without a cluster",
		Long: `Run a Workflow once on this machine, as a manual run, the way the operator runs
it: planned by the same planner, tasks one after another; in each task the serial
steps one after another, then the parallel steps together. A failing serial step
ends its task, a failing parallel step lets the others finish, and no task starts
after a failure. Every step sees the workspace at /kubeci and the KUBECI_*
environment the operator gives (KUBECI_TRIGGER_EVENT=Manual), plus its own env
(plain values only: valueFrom needs a cluster) and workingDir. A Workflow
without a namespace runs in --namespace, else "default" (KUBECI_NAMESPACE).

Runtimes:
  oci             each step in its image without a container engine: images are
                  pulled (credentials from the docker config and its helpers),
                  cached by digest under $XDG_CACHE_HOME/kubeci (~/.cache/kubeci),
                  and run by runc (or crun) with a fresh copy-on-write root per
                  step, the workspace at /kubeci and the host's network. Linux
                  and runc (apt-get install runc); without root it runs
                  rootless, as your user, and refuses images of other users.
  docker, podman  each step in a container of its image (named kubeci-RUNID-STEP,
                  removed when it ends), the workspace bind-mounted at /kubeci.
  host            each step's command on this machine, images ignored, in its own
                  mount and PID namespaces (Linux; root or unprivileged user
                  namespaces). It can change nothing of this machine but the
                  workspace (at /kubeci) and its working directory (the current
                  directory unless workingDir says otherwise) and what it does
                  through /dev and /sys: every other directory of / is a
                  copy-on-write overlay (read-only where overlayfs is refused)
                  whose changes are discarded when the step ends.
  auto (default)  docker or podman when an engine answers, else oci when runc is
                  installed and the images can be pulled, else host; the
                  Runtime line says why.

--image FROM=TO runs the steps whose image is FROM in TO (a mirror, a local
registry). --trigger-object FILE runs as if an update of that object (as kubectl
get -o yaml prints it) triggered the run: KUBECI_TRIGGER_EVENT=Updated, its kind,
namespace and name, and KUBECI_TRIGGER_OBJECT, a read-only JSON copy of it
(without managedFields; a Secret without its data), and KUBECI_FIELD_<PATH> for
each field the Workflow's triggers on that kind watch (fieldPaths), as on the
cluster; --field PATH (repeatable) names the fields instead. kubeci reads files
up to 10 MiB.

The workspace is a fresh temporary directory, removed at the end unless
--keep-workspace; --workspace DIR uses (and keeps) DIR instead.

Each line a step prints is prefixed with its name; a summary ends the run: its
tasks and steps as a tree (as kubeci describe workplan draws them) and the
outcome.
-o json prints the result as JSON on standard output (progress then goes to
standard error; when nothing ran, {"result": "NotRun", "errors": [...]}).
Ctrl-C (SIGINT), SIGTERM or SIGHUP stops the running steps, with every process
or container they started, and cleans up; a closed output (kubeci run | head)
does not stop the run. A run removes what killed runs left in $TMPDIR.

Exit codes: 0 every step succeeded; 1 a step failed or timed out (or the run
passed spec.activeDeadlineSeconds); 2 nothing ran (bad arguments, flags or
file, invalid workflow, no working runtime); 129, 130 or 143 interrupted by
SIGHUP, SIGINT or SIGTERM.`,
		Example: `  kubeci run -f examples/design-doc.yaml
  kubeci run -f examples/failing.yaml --runtime host --keep-workspace
  kubeci run -f workflow.yaml --step-timeout 10m -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorkflow(cmd.Context(), o, f)
		},
	}
	cmd.Flags().StringArrayVarP(&f.files, "filename", "f", nil, "Workflow file to run (- for standard input)")
	cmd.Flags().StringVar(&f.runtime, "runtime", local.RuntimeAuto, "Where steps run: "+strings.Join(local.RuntimeNames, ", "))
	cmd.Flags().StringVar(&f.workspace, "workspace", "", "Workspace directory to use and keep (default: a fresh temporary directory)")
	cmd.Flags().BoolVar(&f.keepWorkspace, "keep-workspace", false, "Keep the temporary workspace and print its path")
	cmd.Flags().DurationVar(&f.stepTimeout, "step-timeout", 0, "Stop a step that runs longer than this (for example 10m; 0: no limit)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "Output format: text or json")
	cmd.Flags().StringVar(&f.triggerObject, "trigger-object", "", "Run as if an update of this object (YAML or JSON, as kubectl get prints it) triggered the run")
	cmd.Flags().StringArrayVar(&f.fields, "field", nil, "With --trigger-object: give the value of this field (a dotted path, repeatable) as KUBECI_FIELD_<PATH> (default: the fieldPaths of the Workflow's triggers on the object's kind)")
	cmd.Flags().StringArrayVar(&f.images, "image", nil, "Run steps of image FROM in image TO instead (FROM=TO, repeatable; a mirror, a local registry)")
	cmd.AddCommand(newStepHelperCommand(local.HostStepCommand, local.HostStepMain), newStepHelperCommand(local.OCIStepCommand, local.OCIStepMain))
	return cmd
}

// newStepHelperCommand is a hidden command a runtime re-executes kubeci with
// to set a step up (local.HostStepCommand: its namespaces; local.OCIStepCommand:
// its root, before it becomes runc); main runs it with the arguments that
// follow.
func newStepHelperCommand(use string, main func(args []string) int) *cobra.Command {
	return &cobra.Command{
		Use:                use,
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error {
			if code := main(args); code != 0 {
				return ExitError{Code: code}
			}
			return nil
		},
	}
}

func runWorkflow(ctx context.Context, o *Options, f runFlags) error {
	var problems []string // why nothing ran, for -o json
	defer func() {
		if len(problems) > 0 && f.output == "json" {
			_ = local.WriteJSONNotRun(o.Out, problems)
		}
	}()
	notRun := func(format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		problems = append(problems, msg)
		fmt.Fprintf(o.ErrOut, "Error: %s\n", msg)
		return ExitError{Code: runNotRun}
	}
	switch {
	case f.output != "text" && f.output != "json":
		return notRun("unknown output format %q: use text or json", f.output)
	case !slices.Contains(local.RuntimeNames, f.runtime):
		return notRun("unknown runtime %q: use one of %s", f.runtime, strings.Join(local.RuntimeNames, ", "))
	case f.stepTimeout < 0:
		return notRun("--step-timeout %s is negative: give a duration such as 10m, or 0 for no limit", f.stepTimeout)
	case f.workspace != "" && f.keepWorkspace:
		return notRun("--keep-workspace applies to the temporary workspace; a --workspace DIR is always kept: give one of them")
	}
	switch len(f.files) {
	case 0:
		return notRun("no file given: use -f FILE (or -f - for standard input)")
	case 1:
	default:
		return notRun("-f given %d times (%s): kubeci run runs one Workflow file", len(f.files), strings.Join(f.files, ", "))
	}
	doc, err := loadOne(o, f.files[0])
	if err != nil {
		return notRun("%v", err)
	}
	if f.triggerObject == "-" && f.files[0] == "-" {
		return notRun("-f - and --trigger-object - both read standard input: give one of them a file")
	}
	var triggers []kubeciv1.Trigger
	if doc.Workflow != nil {
		triggers = doc.Workflow.Spec.Triggers
	}
	trig, err := loadTriggerObject(f.triggerObject, f.fields, triggers, o.In)
	if err != nil {
		return notRun("%v", err)
	}
	if why := refusal(doc, checkWorkflow, local.Unsupported); len(why) > 0 {
		for _, line := range why {
			fmt.Fprintln(o.ErrOut, line)
		}
		problems = append(problems, why...)
		return ExitError{Code: runNotRun}
	}

	progress := o.Out
	if f.output == "json" {
		progress = o.ErrOut
	}
	printer := local.NewPrinter(progress, o.ErrOut, steplog.IsColorTerminal(progress), steplog.IsColorTerminal(o.ErrOut))

	for _, l := range local.CleanLeftovers("") {
		if l.Removed {
			printer.Infof("Removed %s, left by a kubeci run that was killed", l.Path)
		} else {
			printer.Warnf("%s was left by an earlier kubeci run: %s", l.Path, l.Reason)
		}
	}
	imageMap, err := local.ParseImageMap(f.images)
	if err != nil {
		return notRun("%v", err)
	}
	opts := local.RuntimeOptions{Self: []string{"/proc/self/exe", "run"}, Grace: stopGrace, ProbeImages: probeImages(doc.Workflow, imageMap)}
	if steplog.IsColorTerminal(o.ErrOut) {
		opts.Progress = local.NewPullBars(o.ErrOut)
	}
	rt, note, err := local.Select(ctx, f.runtime, opts)
	if err != nil {
		return notRun("the %s runtime cannot work here: %v", f.runtime, err)
	}

	ctx, caught, stop := interruptible(ctx, printer)
	defer stop()
	res, err := local.Run(ctx, doc.Workflow, local.Config{
		Runtime:       rt,
		RuntimeNote:   note,
		WorkspaceDir:  f.workspace,
		KeepWorkspace: f.keepWorkspace,
		StepTimeout:   f.stepTimeout,
		Printer:       printer,
		Namespace:     *o.ConfigFlags.Namespace,
		Images:        imageMap,
		Trigger:       trig,
	})
	if err != nil {
		return notRun("%v", err)
	}
	// A closed output (kubeci run | head -1) must not change how the run
	// ends: the steps ran and were cleaned up; only the report is lost.
	if f.output == "json" {
		_ = local.WriteJSON(o.Out, res)
	} else {
		fmt.Fprintln(o.Out)
		_ = writeRunSummary(o.Out, res)
	}
	return runExit(res.Outcome, caught())
}

// runExit is kubeci run's exit code for a run that ended with outcome, sig
// being the signal that interrupted it, if one did.
func runExit(outcome local.Outcome, sig os.Signal) error {
	switch outcome {
	case local.Succeeded:
		return nil
	case local.Interrupted:
		if s, ok := sig.(syscall.Signal); ok {
			return ExitError{Code: 128 + int(s)}
		}
		return ExitError{Code: 128 + int(syscall.SIGINT)}
	}
	return ExitError{Code: runStepFailed}
}

// probeImages tells --runtime auto whether the oci runtime can have every
// image of wf, within 10 seconds.
func probeImages(wf *kubeciv1.Workflow, m local.ImageMap) func(context.Context, *local.OCI) error {
	return func(ctx context.Context, o *local.OCI) error {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		for _, s := range wf.Spec.Steps {
			if err := o.Images.Check(ctx, m.Map(s.Image)); err != nil {
				return fmt.Errorf("oci: %w", err)
			}
		}
		return nil
	}
}

// stopSignals stop a run: the running steps are stopped, the rest skipped,
// and everything cleaned up.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// interruptible returns a context that SIGINT, SIGTERM or SIGHUP cancels,
// saying so with printer; caught tells which signal came, if one did; stop
// ends the watch. Meanwhile SIGPIPE is caught too, and dropped: a write to a
// closed pipe (kubeci run | head -1) then fails with EPIPE instead of killing
// kubeci before it has stopped the steps and cleaned up. (A caught signal is
// reset to its default in the programs kubeci starts, so steps still get
// SIGPIPE as usual.)
func interruptible(parent context.Context, printer *local.Printer) (ctx context.Context, caught func() os.Signal, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, stopSignals...)
	pipe := make(chan os.Signal, 1)
	signal.Notify(pipe, syscall.SIGPIPE)
	var got atomic.Value
	go func() {
		select {
		case s := <-signals:
			printer.Warnf("%s: stopping the running steps and cleaning up", signalName(s))
			got.Store(s)
			cancel()
		case <-ctx.Done():
		}
	}()
	caught = func() os.Signal {
		s, _ := got.Load().(os.Signal)
		return s
	}
	stop = func() {
		signal.Stop(signals)
		cancel()
	}
	return ctx, caught, stop
}

// loadOne reads the file's only Workflow.
func loadOne(o *Options, file string) (manifest.Document, error) {
	docs, err := o.loadFiles([]string{file})
	if err != nil {
		return manifest.Document{}, err
	}
	if len(docs) != 1 {
		return manifest.Document{}, fmt.Errorf("%s holds %d documents: kubeci run runs one Workflow; put it in a file of its own", file, len(docs))
	}
	return docs[0], nil
}

// refusal says, in kubeci validate's format, why doc cannot run: why it is
// not a Workflow, else every problem the first failing check finds. It is
// empty when doc can run.
func refusal(doc manifest.Document, checks ...func(*kubeciv1.Workflow) field.ErrorList) []string {
	if doc.Err != nil {
		return []string{fmt.Sprintf("%s: %v", doc.Label(), doc.Err)}
	}
	for _, check := range checks {
		var lines []string
		for _, e := range check(doc.Workflow) {
			lines = append(lines, fmt.Sprintf("%s: %s", doc.Label(), plan.FormatError(e)))
		}
		if len(lines) > 0 {
			return lines
		}
	}
	return nil
}

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.String()
}
