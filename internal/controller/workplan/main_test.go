package workplan_test

import (
	"flag"
	"os"
	"testing"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"go.uber.org/zap/zapcore"

	"github.com/kubeci/kubeci/internal/testenv"
)

var logVerbosity = flag.Int("log-v", -1, "log the controllers' messages up to this verbosity (-1: errors only)")

// One kube-apiserver and etcd serve every integration test of the package.
// The controllers log their errors (and more with -log-v) to stderr.
func TestMain(m *testing.M) {
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapLevel(*logVerbosity))))
	os.Exit(testenv.Main(m))
}

func zapLevel(v int) zapcore.Level {
	if v < 0 {
		return zapcore.ErrorLevel
	}
	return zapcore.Level(-v)
}
