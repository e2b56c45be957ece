// Package version tells which build of Kube CI is running.
package version

import "runtime/debug"

// Version is set at build time with
// -ldflags "-X github.com/kubeci/kubeci/internal/version.Version=v0.1.0".
var Version = ""

// String returns the build's version: the one set at build time, else the
// module version or VCS revision Go recorded, else "devel".
func String() string {
	if Version != "" {
		return Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}
