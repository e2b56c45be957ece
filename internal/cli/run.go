package cli

import (
	"context"
	"fmt"
	"io"
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
	file          string
	runtime       string
	workspace     string
	keepWorkspace bool
	stepTimeout   time.Duration
	output        string
}

func newRunCommand(o *Options) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run -f FILE [--runtime auto|host|docker|podman] [--workspace DIR] [--keep-workspace] [--step-timeout D] [-o text|json]",
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
  docker, podman  each step in a container of its image (named kubeci-RUNID-STEP,
                  removed when it ends), the workspace bind-mounted at /kubeci.
  host            each step's command on this machine, in its own mount and PID
                  namespaces where the workspace is bound at /kubeci (Linux; root
                  or unprivileged user namespaces). Images are ignored. Nothing is
                  created at /kubeci on this machine: each step gets a root of its
                  own (a tmpfs of bind mounts of /'s entries), mounted on an empty
                  temporary directory removed at the end. A step without
                  workingDir runs in the current directory, with kubeci's
                  environment plus its own.
  auto (default)  docker or podman when an engine answers, else host.

The workspace is a fresh temporary directory, removed at the end unless
--keep-workspace; --workspace DIR uses (and keeps) DIR instead.

Each line a step prints is prefixed with its name; a summary table ends the run.
-o json prints the result as JSON on standard output (progress then goes to
standard error). Ctrl-C (SIGINT) or SIGTERM stops the running steps, with every
process or container they started, and cleans up.

Exit codes: 0 every step succeeded; 1 a step failed or timed out; 2 nothing ran
(bad flags or file, invalid workflow, no working runtime); 130 or 143
interrupted by SIGINT or SIGTERM.`,
		Example: `  kubeci run -f examples/design-doc.yaml
  kubeci run -f examples/failing.yaml --runtime host --keep-workspace
  kubeci run -f workflow.yaml --step-timeout 10m -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorkflow(cmd.Context(), o, f)
		},
	}
	cmd.Flags().StringVarP(&f.file, "filename", "f", "", "Workflow file to run (- for standard input)")
	cmd.Flags().StringVar(&f.runtime, "runtime", local.RuntimeAuto, "Where steps run: "+strings.Join(local.RuntimeNames, ", "))
	cmd.Flags().StringVar(&f.workspace, "workspace", "", "Workspace directory to use and keep (default: a fresh temporary directory)")
	cmd.Flags().BoolVar(&f.keepWorkspace, "keep-workspace", false, "Keep the temporary workspace and print its path")
	cmd.Flags().DurationVar(&f.stepTimeout, "step-timeout", 0, "Stop a step that runs longer than this (for example 10m; 0: no limit)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "Output format: text or json")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		fmt.Fprintf(o.ErrOut, "Error: %v\nSee '%s --help'.\n", err, c.CommandPath())
		return ExitError{Code: runNotRun}
	})
	cmd.AddCommand(newHostStepCommand())
	return cmd
}

// newHostStepCommand is the hidden command the host runtime re-executes
// kubeci with to start a step in its namespaces.
func newHostStepCommand() *cobra.Command {
	return &cobra.Command{
		Use:                local.HostStepCommand,
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error {
			if code := local.HostStepMain(args); code != 0 {
				return ExitError{Code: code}
			}
			return nil
		},
	}
}

func runWorkflow(ctx context.Context, o *Options, f runFlags) error {
	notRun := func(format string, args ...any) error {
		fmt.Fprintf(o.ErrOut, "Error: "+format+"\n", args...)
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
	if f.file == "" {
		return notRun("no file given: use -f FILE (or -f - for standard input)")
	}
	doc, err := loadOne(o, f.file)
	if err != nil {
		return notRun("%v", err)
	}
	if !refuse(o.ErrOut, doc, plan.Validate, local.Unsupported) {
		return ExitError{Code: runNotRun}
	}

	progress := o.Out
	if f.output == "json" {
		progress = o.ErrOut
	}
	printer := local.NewPrinter(progress, o.ErrOut, steplog.IsColorTerminal(progress))

	rt, note, err := local.Select(ctx, f.runtime, local.RuntimeOptions{Self: []string{"/proc/self/exe", "run"}, Grace: stopGrace})
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
	})
	if err != nil {
		return notRun("%v", err)
	}
	if f.output == "json" {
		err = local.WriteJSON(o.Out, res)
	} else {
		fmt.Fprintln(o.Out)
		err = local.WriteSummary(o.Out, res)
	}
	if err != nil {
		return err
	}
	switch res.Outcome {
	case local.Succeeded:
		return nil
	case local.Interrupted:
		if caught() == syscall.SIGTERM {
			return ExitError{Code: 128 + int(syscall.SIGTERM)}
		}
		return ExitError{Code: 128 + int(syscall.SIGINT)}
	}
	return ExitError{Code: runStepFailed}
}

// interruptible returns a context that SIGINT or SIGTERM cancels, saying so
// with printer; caught tells which signal came, if one did; stop ends the
// watch.
func interruptible(parent context.Context, printer *local.Printer) (ctx context.Context, caught func() os.Signal, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
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

// refuse prints, in kubeci validate's format, why doc cannot run: why it is
// not a Workflow, else every problem the first failing check finds. It reports
// whether doc can run.
func refuse(w io.Writer, doc manifest.Document, checks ...func(*kubeciv1.Workflow) field.ErrorList) bool {
	if doc.Err != nil {
		fmt.Fprintf(w, "%s: %v\n", doc.Label(), doc.Err)
		return false
	}
	for _, check := range checks {
		errs := check(doc.Workflow)
		for _, e := range errs {
			fmt.Fprintf(w, "%s: %s\n", doc.Label(), plan.FormatError(e))
		}
		if len(errs) > 0 {
			return false
		}
	}
	return true
}

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}
