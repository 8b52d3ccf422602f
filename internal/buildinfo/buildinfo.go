// Package buildinfo holds the version and commit that a release build stamps into the binaries
// with the linker, so that a running process and its metrics can say exactly what they are:
//
//	go build -ldflags "-X github.com/ticketflow/ticketflow/internal/buildinfo.Version=v1.2.0 -X github.com/ticketflow/ticketflow/internal/buildinfo.Commit=0f3c9e1"
package buildinfo

import (
	"fmt"
	"runtime"
)

// These are variables, not constants, because the linker can only set variables.
var (
	// Version is the release version, "dev" for a build from a working tree.
	Version = "dev"
	// Commit is the source commit of the build, "unknown" when the build did not say.
	Commit = "unknown"
)

// String describes the build in one line, e.g. "v1.2.0 (commit 0f3c9e1, go1.26.8)".
func String() string {
	return fmt.Sprintf("%s (commit %s, %s)", Version, Commit, runtime.Version())
}
