// drone-lint: checks a .drone.yml with Drone's own code, as a runner would see it: the runner's substitution pass
// (github.com/drone/envsubst, which drone-runner-docker v1.8.4 uses through drone/runner-go v1.12.0
// pipeline/runtime/runner.go), then Drone's YAML parser and linter (github.com/drone/drone-yaml v1.2.3 yaml,
// yaml/linter) for an untrusted repository. Exit 1 with one line per problem; prints "ok <resources>" otherwise.
//
// A ${VAR} the runner would substitute that is not a DRONE_* build variable is a problem: the runner replaces it
// with an empty string before any shell sees it (a shell variable is written $${VAR} or $$VAR).
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/drone/drone-yaml/yaml"
	"github.com/drone/drone-yaml/yaml/linter"
	"github.com/drone/envsubst"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: drone-lint <.drone.yml>")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	unknown := map[string]bool{}
	config, err := envsubst.Eval(string(raw), func(name string) string {
		if strings.HasPrefix(name, "DRONE_") || name == "CI" {
			return "0123456789abcdef0123456789abcdef01234567"
		}
		unknown[name] = true
		return ""
	})
	if err != nil {
		fmt.Println("substitution:", err)
		os.Exit(1)
	}
	problems := []string{}
	for name := range unknown {
		problems = append(problems, fmt.Sprintf("${%s} is substituted by the runner (not a build variable): write $${%s} for the shell", name, name))
	}
	sort.Strings(problems)
	manifest, err := yaml.ParseString(config)
	if err != nil {
		problems = append(problems, "parse: "+err.Error())
	} else {
		for _, r := range manifest.Resources {
			if err := linter.Lint(r, false); err != nil {
				problems = append(problems, "lint: "+err.Error())
			}
		}
	}
	if len(problems) > 0 {
		fmt.Println(strings.Join(problems, "\n"))
		os.Exit(1)
	}
	fmt.Println("ok", len(manifest.Resources))
}
