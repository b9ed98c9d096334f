//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// gazelleTree is a consumer module's tree before gazelle: 20 Go programs (16 under svc/
// with the root's settings, 4 under multi/ built for two platforms on no lock) and three
// apko.yaml files with corpus locks beside them, and the two BUILD files that hold
// directives.
type gazelleTree struct {
	ws, registry, srv string
	programs          []string // package paths, e.g. svc/p00
	apko              []string // corpus lock shapes, one directory each under images/
}

func newGazelleTree() *gazelleTree {
	g := &gazelleTree{apko: []string{"alpine", "thirdparty", "empty"}}
	for i := 0; i < 20; i++ {
		dir := "svc"
		if i >= 16 {
			dir = "multi"
		}
		g.programs = append(g.programs, fmt.Sprintf("%s/p%02d", dir, i))
	}
	return g
}

func (g *gazelleTree) write(t *testing.T, root, corpus string) {
	write := writer(t, g.ws)
	write("MODULE.bazel", consumerModule("gazelle_consumer", root))
	write(".bazelrc", "common --lockfile_mode=off\n"+consumerConfig(root, os.Getenv("WHARF_E2E_BAZEL_CONFIG")))
	write("BUILD.bazel", fmt.Sprintf(`load("@gazelle//:def.bzl", "gazelle", "gazelle_binary")
load("@rules_wharf//apk:defs.bzl", "apk_tidy")

# gazelle:prefix example.com/consumer
# Every image: the Alpine lock's packages below the program, pushed as REGISTRY/<package>:latest.
# gazelle:wharf_image apks=@apko_images_alpine platforms=linux_amd64 repository=%s/{package} tags=latest

gazelle_binary(
    name = "gazelle_bin",
    languages = [
        "@gazelle//language/go",
        "@rules_wharf_tools//gazelle",
    ],
)

gazelle(
    name = "gazelle",
    gazelle = ":gazelle_bin",
)

apk_tidy(name = "wharf_tidy")
`, g.registry))
	write("multi/BUILD.bazel", "# No packages; amd64 and arm64.\n# gazelle:wharf_image apks= platforms=linux_amd64,linux_arm64\n")
	for _, p := range g.programs {
		write(p+"/main.go", fmt.Sprintf("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(%q) }\n", "hello from "+p))
	}
	for _, shape := range g.apko {
		lock, err := os.ReadFile(filepath.Join(corpus, shape+".lock.json"))
		if err != nil {
			t.Fatal(err)
		}
		write("images/"+shape+"/apko.lock.json", string(lock))
		write("images/"+shape+"/apko.yaml", fmt.Sprintf("contents:\n  repositories: [%s/%s]\nentrypoint:\n  command: /usr/bin/probe\narchs: [x86_64]\n", g.srv, shape))
	}
}

// buildFiles reads every BUILD.bazel of the tree.
func (g *gazelleTree) buildFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	filepath.WalkDir(g.ws, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && strings.HasPrefix(d.Name(), "bazel-") {
			return filepath.SkipDir
		}
		if err == nil && d.Name() == "BUILD.bazel" {
			files[strings.TrimPrefix(p, g.ws+"/")] = readFile(t, p)
		}
		return nil
	})
	return files
}

// same fails the test when a run changed BUILD files it should have left alone.
func same(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	var changed []string
	for p, c := range after {
		if before[p] != c {
			changed = append(changed, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			changed = append(changed, p+" (removed)")
		}
	}
	sort.Strings(changed)
	if len(changed) > 0 {
		t.Fatalf("%s changed %v, e.g. %s:\n%s", what, changed, changed[0], after[changed[0]])
	}
}

// TestGazelle: in a consumer module, gazelle with rules_wharf's extension writes the image
// targets of 20 Go programs and 3 apko.yaml files; `bazel run //:wharf_tidy` adds the
// locks' apk.translate_lock entries those targets name; everything builds, every program's
// index pushes to a local registry, and an image runs. A second gazelle run and a second
// tidy change nothing; a `# keep` edit survives gazelle and an unkept edit does not; a
// deleted program's targets and a deleted lock's image and entry go. Gazelle's run time
// on the tree is logged.
func TestGazelle(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	g := newGazelleTree()
	config := os.Getenv("WHARF_E2E_BAZEL_CONFIG")
	g.ws = filepath.Join(cacheDir(), strings.TrimSuffix("e2e-gazelle-"+config, "-"))
	os.RemoveAll(g.ws)
	corpus := filepath.Join(t.TempDir(), "corpus")
	srv, _, _ := rangeServer(corpus)
	defer srv.Close()
	g.srv = srv.URL
	if err := os.MkdirAll(g.ws, 0o755); err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(g.ws, "probe")
	if err := os.WriteFile(probe, buildProbe(t), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, root, nil, "go", "run", "./tools/internal/apk/apktest/corpusgen", "-dir", corpus, "-base", srv.URL, "-probe", probe)
	g.registry = startRegistry(t)
	g.write(t, root, corpus)

	// The corpus's keys are file:// URLs: Bazel (in tools/bazel's chroot) must see them.
	env := []string{"WHARF_BIND=" + root + " " + corpus}
	defer run(t, g.ws, env, bazel, "shutdown")
	gazelle := func() time.Duration {
		start := time.Now()
		run(t, g.ws, env, bazel, "run", "//:gazelle")
		return time.Since(start)
	}
	first := gazelle()
	generated := g.buildFiles(t)
	g.checkGenerated(t, generated)

	// The tool writes what it changed to stderr, after Bazel's own lines.
	_, out := runSplit(t, g.ws, env, bazel, "run", "//:wharf_tidy")
	for _, shape := range g.apko {
		want := fmt.Sprintf(`MODULE.bazel: added apk.translate_lock(name = "apko_images_%s", lock = "//images/%s:apko.lock.json") and use_repo "apko_images_%s": images/%s/apko.lock.json had none`, shape, shape, shape, shape)
		if !strings.Contains(out, want+"\n") {
			t.Errorf("wharf_tidy's output lacks %q:\n%s", want, out)
		}
	}
	module := readFile(t, filepath.Join(g.ws, "MODULE.bazel"))
	if _, out := runSplit(t, g.ws, env, bazel, "run", "//:wharf_tidy", "--", "--check"); !strings.Contains(out, "MODULE.bazel: in step with the 3 apko.lock.json files of the tree") {
		t.Errorf("second wharf_tidy: %s", out)
	}
	if readFile(t, filepath.Join(g.ws, "MODULE.bazel")) != module {
		t.Error("a second wharf_tidy changed MODULE.bazel")
	}

	second := gazelle()
	same(t, "a second gazelle run", generated, g.buildFiles(t))
	g.timeGazelleBinary(t, env, bazel, first, second)

	g.buildAndPush(t, env, bazel)
	g.keepEdits(t, env, bazel, gazelle)
	g.removals(t, env, bazel, gazelle)
}

// checkGenerated: each program's package has its four targets linked as they should be,
// each apko.yaml's its lock and image on its lock's repository.
func (g *gazelleTree) checkGenerated(t *testing.T, files map[string]string) {
	t.Helper()
	for _, p := range g.programs {
		name := filepath.Base(p)
		b := files[p+"/BUILD.bazel"]
		for _, w := range []string{
			`load("@rules_wharf//oci:defs.bzl", "oci_image", "oci_image_index", "oci_layer", "oci_push")`,
			fmt.Sprintf("oci_layer(\n    name = \"%s_layer\",\n    files = {\n        \":%s\": \"/usr/bin/%s\",\n    },\n)", name, name, name),
			fmt.Sprintf(`layers = [":%s_layer"]`, name),
			fmt.Sprintf(`images = [":%s_image"]`, name),
			fmt.Sprintf(`image = ":%s_index"`, name),
			fmt.Sprintf(`repository = "%s/%s"`, g.registry, p),
			`remote_tags = ["latest"]`,
		} {
			if !strings.Contains(b, w) {
				t.Errorf("%s/BUILD.bazel lacks %q:\n%s", p, w, b)
			}
		}
		if multi := strings.HasPrefix(p, "multi/"); multi == strings.Contains(b, "apks =") || multi != strings.Contains(b, "linux_arm64") {
			t.Errorf("%s/BUILD.bazel: apks or platforms not as its directory's directive says:\n%s", p, b)
		}
	}
	for _, shape := range g.apko {
		b := files["images/"+shape+"/BUILD.bazel"]
		if !strings.Contains(b, "apk_lock(\n    name = \"lock\",") || !strings.Contains(b, fmt.Sprintf(`apks = "@apko_images_%s"`, shape)) {
			t.Errorf("images/%s/BUILD.bazel:\n%s", shape, b)
		}
	}
}

// timeGazelleBinary logs gazelle's run time on the tree: `bazel run //:gazelle` the first
// time (building the binary) and the second, and the binary alone, as a user's editor
// integration runs it.
func (g *gazelleTree) timeGazelleBinary(t *testing.T, env []string, bazel string, first, second time.Duration) {
	t.Helper()
	bin := strings.TrimSpace(run(t, g.ws, env, bazel, "cquery", "--output=files", "//:gazelle_bin"))
	cmd := command(g.ws, env, filepath.Join(g.ws, bin), "-repo_root="+g.ws, "-mode=diff")
	var best time.Duration
	for i := 0; i < 3; i++ {
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s -mode=diff: %v\n%s", bin, err, out)
		}
		if d := time.Since(start); best == 0 || d < best {
			best = d
		}
		cmd = command(g.ws, env, filepath.Join(g.ws, bin), "-repo_root="+g.ws, "-mode=diff")
	}
	t.Logf("gazelle on %d programs and %d apko.yaml: bazel run //:gazelle %.1fs (first, building it), %.1fs (second); the binary alone %.0f ms (best of 3, -mode=diff, nothing to change)",
		len(g.programs), len(g.apko), first.Seconds(), second.Seconds(), float64(best.Microseconds())/1000)
}

// buildAndPush builds everything, pushes every program's index and checks the registry's
// digest is the built one, and runs one image and one apko image.
func (g *gazelleTree) buildAndPush(t *testing.T, env []string, bazel string) {
	t.Helper()
	run(t, g.ws, env, bazel, "build", "--output_groups=+layout", "//...")
	crane := tool(t, "crane")
	for _, p := range g.programs {
		name := filepath.Base(p)
		run(t, g.ws, env, bazel, "run", "//"+p+":"+name+"_push")
		built := strings.TrimSpace(readFile(t, filepath.Join(g.ws, "bazel-bin", p, name+"_index.digest")))
		pushed := strings.TrimSpace(run(t, g.ws, nil, crane, "digest", "--insecure", g.registry+"/"+p+":latest"))
		if built != pushed {
			t.Errorf("%s: pushed %s, built %s", p, pushed, built)
		}
	}
	if _, err := exec.LookPath("runc"); err != nil {
		t.Logf("runc not found: the images are not run")
		return
	}
	got, _ := runImage(t, filepath.Join(g.ws, "bazel-bin", "svc", "p03", "p03_image")+":latest")
	if got != "hello from svc/p03\n" {
		t.Errorf("svc/p03's image printed %q", got)
	}
	got, _ = runImage(t, filepath.Join(g.ws, "bazel-bin", "images", "alpine", "image")+":latest")
	if !strings.Contains(got, "marker=alpine\n") {
		t.Errorf("images/alpine's image printed %q", got)
	}
}

// keepEdits: a `# keep` edit of a generated attribute survives gazelle, an unkept one is
// generated again, an attribute gazelle does not generate stays; the kept image builds.
func (g *gazelleTree) keepEdits(t *testing.T, env []string, bazel string, gazelle func() time.Duration) {
	t.Helper()
	path := filepath.Join(g.ws, "svc", "p00", "BUILD.bazel")
	b := readFile(t, path)
	edited := strings.Replace(b, `entrypoint = ["/usr/bin/p00"],`, `entrypoint = ["/usr/bin/p00", "--kept"],  # keep
    env = {"MODE": "edited"},`, 1)
	edited = strings.Replace(edited, `remote_tags = ["latest"],`, `remote_tags = ["edited"],`, 1)
	if edited == b || strings.Count(edited, "edited") != 2 {
		t.Fatalf("svc/p00/BUILD.bazel is not as generated:\n%s", b)
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	gazelle()
	got := readFile(t, path)
	for _, w := range []string{`"--kept"`, `# keep`, `env = {"MODE": "edited"}`, `remote_tags = ["latest"]`} {
		if !strings.Contains(got, w) {
			t.Errorf("after gazelle, svc/p00/BUILD.bazel lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, `["edited"]`) {
		t.Errorf("gazelle kept the unkept edit of remote_tags:\n%s", got)
	}
	run(t, g.ws, env, bazel, "build", "//svc/p00:p00_image")
}

// removals: a deleted program's package loses its targets; a deleted lock's apko_image goes
// with the next gazelle run, and its entry with the next wharf_tidy, which says so.
func (g *gazelleTree) removals(t *testing.T, env []string, bazel string, gazelle func() time.Duration) {
	t.Helper()
	if err := os.Remove(filepath.Join(g.ws, "svc", "p15", "main.go")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(g.ws, "images", "empty", "apko.lock.json")); err != nil {
		t.Fatal(err)
	}
	gazelle()
	if b, err := os.ReadFile(filepath.Join(g.ws, "svc", "p15", "BUILD.bazel")); err == nil && strings.Contains(string(b), "p15_") {
		t.Errorf("svc/p15's targets stayed after its program was deleted:\n%s", b)
	}
	if b := readFile(t, filepath.Join(g.ws, "images", "empty", "BUILD.bazel")); strings.Contains(b, "apko_image") || !strings.Contains(b, "apk_lock") {
		t.Errorf("images/empty after its lock was deleted:\n%s", b)
	}
	_, out := runSplit(t, g.ws, env, bazel, "run", "//:wharf_tidy")
	want := `MODULE.bazel: removed apk.translate_lock(name = "apko_images_empty", lock = "//images/empty:apko.lock.json") and use_repo "apko_images_empty": images/empty/apko.lock.json no longer exists`
	if !strings.Contains(out, want+"\n") {
		t.Errorf("wharf_tidy's output lacks %q:\n%s", want, out)
	}
	run(t, g.ws, env, bazel, "build", "//...")
}
