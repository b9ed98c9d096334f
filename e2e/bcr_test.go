//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

// The Bazel Central Registry's presubmit (.bcr/presubmit.yml) builds and tests its test
// module with rules_wharf as a dependency: this runs the same targets on the same module,
// rules_wharf being this checkout.
func TestBcrPresubmitModule(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	b, err := os.ReadFile(filepath.Join(root, ".bcr", "presubmit.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var presubmit struct {
		Module struct {
			Path  string `yaml:"module_path"`
			Tasks map[string]struct {
				Build []string `yaml:"build_targets"`
				Test  []string `yaml:"test_targets"`
			}
		} `yaml:"bcr_test_module"`
	}
	if err := yaml.Unmarshal(b, &presubmit); err != nil {
		t.Fatalf(".bcr/presubmit.yml: %v", err)
	}
	m := presubmit.Module
	if m.Path == "" || len(m.Tasks) == 0 {
		t.Fatalf(".bcr/presubmit.yml: bcr_test_module has no module_path or no tasks: %+v", m)
	}
	ws := exampleModule(t, root, m.Path)
	env := []string{"WHARF_BIND=" + root}
	defer run(t, ws, env, bazel, "shutdown")
	for name, task := range m.Tasks {
		if len(task.Build) == 0 && len(task.Test) == 0 {
			t.Fatalf(".bcr/presubmit.yml: task %s has no targets", name)
		}
		if len(task.Build) > 0 {
			run(t, ws, env, bazel, append([]string{"build", "--"}, task.Build...)...)
		}
		if len(task.Test) > 0 {
			run(t, ws, env, bazel, append([]string{"test", "--"}, task.Test...)...)
		}
	}
}
