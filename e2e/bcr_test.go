//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bcrPresubmit is the part of a .bcr presubmit.yml that names what the BCR's CI builds:
// a test module (the module under test as its dependency) and/or tasks on the module
// itself (targets like @module//pkg:target).
type bcrPresubmit struct {
	Module struct {
		Path  string             `yaml:"module_path"`
		Tasks map[string]bcrTask `yaml:"tasks"`
	} `yaml:"bcr_test_module"`
	Tasks map[string]bcrTask `yaml:"tasks"`
}

type bcrTask struct {
	Build []string `yaml:"build_targets"`
	Test  []string `yaml:"test_targets"`
}

// The Bazel Central Registry's presubmit builds and tests what .bcr/ names for each module
// of the repository (.bcr/config.yml's moduleRoots: rules_wharf at the root, rules_wharf_tools
// in tools/): this runs the same targets, the modules being this checkout. rules_wharf's
// test module is e2e/smoke; rules_wharf_tools' targets are built in that same module, which
// (as every consumer of a checkout) builds the tool from source with rules_wharf_tools.
func TestBcrPresubmitModule(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	var config struct {
		ModuleRoots []string `yaml:"moduleRoots"`
	}
	readYAML(t, filepath.Join(root, ".bcr", "config.yml"), &config)
	if strings.Join(config.ModuleRoots, ",") != ".,tools" {
		t.Fatalf(".bcr/config.yml: moduleRoots %q, want the two modules [\".\", \"tools\"]", config.ModuleRoots)
	}
	var main, tools bcrPresubmit
	readYAML(t, filepath.Join(root, ".bcr", "presubmit.yml"), &main)
	readYAML(t, filepath.Join(root, ".bcr", "tools", "presubmit.yml"), &tools)
	for _, dir := range []string{".bcr", filepath.Join(".bcr", "tools")} {
		if _, err := os.Stat(filepath.Join(root, dir, "metadata.template.json")); err != nil {
			t.Errorf("%s has no metadata.template.json: %v", dir, err)
		}
	}
	m := main.Module
	if m.Path == "" || len(m.Tasks) == 0 {
		t.Fatalf(".bcr/presubmit.yml: bcr_test_module has no module_path or no tasks: %+v", m)
	}
	if len(tools.Tasks) == 0 {
		t.Fatalf(".bcr/tools/presubmit.yml: no tasks")
	}
	ws := exampleModule(t, root, m.Path)
	env := []string{"WHARF_BIND=" + root}
	defer run(t, ws, env, bazel, "shutdown")
	runTasks := func(file string, tasks map[string]bcrTask) {
		for name, task := range tasks {
			if len(task.Build) == 0 && len(task.Test) == 0 {
				t.Fatalf("%s: task %s has no targets", file, name)
			}
			if len(task.Build) > 0 {
				run(t, ws, env, bazel, append([]string{"build", "--"}, task.Build...)...)
			}
			if len(task.Test) > 0 {
				run(t, ws, env, bazel, append([]string{"test", "--"}, task.Test...)...)
			}
		}
	}
	runTasks(".bcr/presubmit.yml", m.Tasks)
	runTasks(".bcr/tools/presubmit.yml", tools.Tasks)
}
