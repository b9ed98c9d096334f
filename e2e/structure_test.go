//go:build e2e

package e2e

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestStructureTestAgreesWithCST runs each file of tests/structure/corpus twice on the same
// image: as an oci_structure_test (//tests/structure:corpus_<file>) and with
// container-structure-test v1.22.1's own tar driver on the image's docker tarball, and
// requires the same outcome for every test case. Left out, as CST's tar driver cannot run
// them: commandTests (ours are SKIPPED with a reason, checked here) and file tests with uid
// or gid (its driver fails every one; ours are checked by //tests/structure:image_test).
func TestStructureTestAgreesWithCST(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	cst := tool(t, "container-structure-test")
	files, err := filepath.Glob(filepath.Join(root, "tests", "structure", "corpus", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	targets := []string{"//tests/structure:image_tarball"}
	for _, f := range files {
		targets = append(targets, "//tests/structure:corpus_"+strings.TrimSuffix(filepath.Base(f), ".yaml"))
	}
	// Some corpus tests fail by design: bazel test exits non-zero; the logs are compared.
	if out, ok := bazelOutput(t, root, nil, bazel, append([]string{"test", "--keep_going", "--build_tests_only=false"}, targets...)...); !ok && !strings.Contains(out, "FAILED") {
		t.Fatalf("bazel test: %s", tail(out, 3000))
	}
	tarball := filepath.Join(root, "bazel-bin", "tests", "structure", "image.tar")
	compared, passed, failed := 0, 0, 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		ours := wharfOutcomes(t, filepath.Join(root, "bazel-testlogs", "tests", "structure", "corpus_"+name, "test.log"))
		theirs := cstOutcomes(t, cst, tarball, f)
		left := leftOut(t, f)
		for test, status := range ours {
			if strings.HasPrefix(test, "Command Test: ") && status != "SKIPPED" {
				t.Errorf("%s: %s is %s, want SKIPPED", name, test, status)
			}
		}
		for test, pass := range theirs {
			if left[test] {
				t.Logf("%s: %s left out (CST's tar driver cannot check it)", name, test)
				continue
			}
			got, ok := ours[test]
			want := map[bool]string{true: "PASS", false: "FAIL"}[pass]
			switch {
			case !ok:
				t.Errorf("%s: %q is in CST's results but not in ours: %v", name, test, ours)
			case got != want:
				t.Errorf("%s: %q: oci_structure_test says %s, container-structure-test %s", name, test, got, want)
			default:
				compared++
				if pass {
					passed++
				} else {
					failed++
				}
			}
		}
	}
	if passed == 0 || failed == 0 {
		t.Errorf("the corpus must hold passing and failing cases: %d pass, %d fail", passed, failed)
	}
	t.Logf("oci_structure_test and container-structure-test --driver tar agree on %d test cases (%d pass, %d fail) in %d files", compared, passed, failed, len(files))
}

var reportLine = regexp.MustCompile(`(?m)^=== (PASS|FAIL|SKIPPED): (.*)$`)

// wharfOutcomes reads a structure test's log: test name -> PASS, FAIL or SKIPPED.
func wharfOutcomes(t *testing.T, log string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range reportLine.FindAllStringSubmatch(readFile(t, log), -1) {
		out[m[2]] = m[1]
	}
	if len(out) == 0 {
		t.Fatalf("%s: no results", log)
	}
	return out
}

// cstOutcomes runs container-structure-test's tar driver: test name -> passed.
func cstOutcomes(t *testing.T, cst, tarball, config string) map[string]bool {
	t.Helper()
	// CST exits non-zero when a test fails: its JSON report is on stdout either way.
	b, _ := command(filepath.Dir(config), nil, cst, "test", "--driver", "tar", "--image", tarball, "--config", config, "--output", "json").Output()
	var report struct {
		Results []struct {
			Name string
			Pass bool
		}
	}
	if err := json.Unmarshal(b, &report); err != nil || len(report.Results) == 0 {
		t.Fatalf("container-structure-test on %s: %v\n%s", config, err, b)
	}
	out := map[string]bool{}
	for _, r := range report.Results {
		out[r.Name] = r.Pass
	}
	return out
}

// leftOut names the tests of a corpus file CST's tar driver cannot run: commands (it names
// them without a prefix when it fails them) and files with uid or gid.
func leftOut(t *testing.T, config string) map[string]bool {
	t.Helper()
	var c struct {
		CommandTests       []struct{ Name string } `yaml:"commandTests"`
		FileExistenceTests []struct {
			Name string
			UID  *int `yaml:"uid"`
			GID  *int `yaml:"gid"`
		} `yaml:"fileExistenceTests"`
	}
	readYAML(t, config, &c)
	out := map[string]bool{}
	for _, ct := range c.CommandTests {
		out[ct.Name], out["Command Test: "+ct.Name] = true, true
	}
	for _, f := range c.FileExistenceTests {
		if f.UID != nil || f.GID != nil {
			out["File Existence Test: "+f.Name] = true
		}
	}
	return out
}
