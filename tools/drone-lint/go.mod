module edgecloud.local/tools/drone-lint

go 1.22

require (
	github.com/drone/drone-yaml v1.2.3
	github.com/drone/envsubst v1.0.3
)

require (
	github.com/bmatcuk/doublestar v1.1.1 // indirect
	github.com/buildkite/yaml v2.1.0+incompatible // indirect
	github.com/docker/go-units v0.3.3 // indirect
)

// docker.io/go-docker is refused by the Go module proxy ("403 This module version is not available"). It is in the
// module graph only through drone-yaml's dependency github.com/drone/drone-runtime; the yaml and linter packages
// never import it, so an empty local module stands in for its go.mod.
replace docker.io/go-docker v1.0.0 => ./stub/go-docker
