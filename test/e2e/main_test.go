//go:build e2e

package e2e

import (
	"os"
	"testing"

	"github.com/kubeci/kubeci/test/e2e/cluster"
)

func TestMain(m *testing.M) { os.Exit(cluster.Main(m)) }
