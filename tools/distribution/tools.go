//go:build tools

// Build-only: pins the main package scripts/build-tools.sh builds, so `go mod tidy` keeps its dependencies.
package tools

import _ "github.com/distribution/distribution/v3/cmd/registry"
