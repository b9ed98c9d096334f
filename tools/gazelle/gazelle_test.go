package gazelle

import (
	"bytes"
	"flag"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bazelbuild/bazel-gazelle/config"
	"github.com/bazelbuild/bazel-gazelle/language"
	golang "github.com/bazelbuild/bazel-gazelle/language/go"
	"github.com/bazelbuild/bazel-gazelle/merger"
	"github.com/bazelbuild/bazel-gazelle/resolve"
	"github.com/bazelbuild/bazel-gazelle/rule"
	"github.com/bazelbuild/bazel-gazelle/testtools"
	"github.com/bazelbuild/bazel-gazelle/walk"
)

// runGazelle runs gazelle's update over dir in process as gazelle_binary's main does with
// languages go and this one: walk, generate (go first), merge, fix loads, save. It returns
// what the run logged.
func runGazelle(t *testing.T, dir string) string {
	t.Helper()
	var logged bytes.Buffer
	log.SetOutput(&logged)
	defer log.SetOutput(os.Stderr)
	langs := []language.Language{golang.NewLanguage(), NewLanguage()}
	cexts := []config.Configurer{&config.CommonConfigurer{}, &walk.Configurer{}, &resolve.Configurer{}}
	c := testtools.NewTestConfig(t, cexts, langs, []string{"-repo_root=" + dir, "-go_prefix=example.com/m"})
	for _, l := range langs {
		cexts = append(cexts, l)
	}
	knownKinds := map[string]rule.KindInfo{}
	var loads []rule.LoadInfo
	for _, l := range langs {
		for k, v := range l.Kinds() {
			knownKinds[k] = v
		}
		loads = append(loads, l.(language.ModuleAwareLanguage).ApparentLoads(c.ModuleToApparentName)...)
	}
	walk.Walk(c, cexts, []string{dir}, walk.VisitAllUpdateSubdirsMode, func(dir, rel string, c *config.Config, update bool, f *rule.File, subdirs, regularFiles, genFiles []string) {
		var gen, empty []*rule.Rule
		for _, l := range langs {
			res := l.GenerateRules(language.GenerateArgs{Config: c, Dir: dir, Rel: rel, File: f, Subdirs: subdirs,
				RegularFiles: regularFiles, GenFiles: genFiles, OtherEmpty: empty, OtherGen: gen})
			gen, empty = append(gen, res.Gen...), append(empty, res.Empty...)
		}
		if f == nil && len(gen) == 0 {
			return
		}
		if f == nil {
			f = rule.EmptyFile(filepath.Join(dir, "BUILD.bazel"), rel)
		}
		merger.MergeFile(f, empty, gen, merger.PreResolve, knownKinds, nil)
		merger.FixLoads(f, loads)
		if err := f.Save(f.Path); err != nil {
			t.Fatal(err)
		}
	})
	return logged.String()
}

// testdataCase reads testdata/name: BUILD.in files are the tree's BUILD.bazel files before
// the run, BUILD.out those after it; every other file is copied as it is.
func testdataCase(t *testing.T, name string) (inputs, goldens []testtools.FileSpec) {
	t.Helper()
	root := filepath.Join("testdata", name)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel := filepath.ToSlash(strings.TrimPrefix(p, root+string(filepath.Separator)))
		dir := filepath.ToSlash(filepath.Dir(rel))
		switch filepath.Base(rel) {
		case "BUILD.in":
			inputs = append(inputs, testtools.FileSpec{Path: filepath.Join(dir, "BUILD.bazel"), Content: string(b)})
		case "BUILD.out":
			goldens = append(goldens, testtools.FileSpec{Path: filepath.Join(dir, "BUILD.bazel"), Content: string(b)})
		default:
			inputs = append(inputs, testtools.FileSpec{Path: rel, Content: string(b)})
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return inputs, goldens
}

// TestGolden runs gazelle on each testdata tree, compares every BUILD file with its
// BUILD.out, and runs it again: the second run must change nothing.
func TestGolden(t *testing.T) {
	for _, name := range []string{"images", "keep_and_removal", "repo_name"} {
		t.Run(name, func(t *testing.T) {
			inputs, goldens := testdataCase(t, name)
			dir, cleanup := testtools.CreateFiles(t, inputs)
			defer cleanup()
			if logged := runGazelle(t, dir); logged != "" {
				t.Errorf("gazelle logged:\n%s", logged)
			}
			if *update {
				writeGoldens(t, dir, name)
				return
			}
			testtools.CheckFiles(t, dir, goldens)
			runGazelle(t, dir)
			t.Run("second run", func(t *testing.T) { testtools.CheckFiles(t, dir, goldens) })
		})
	}
}

var update = flag.Bool("update", false, "write each testdata tree's BUILD.out files from this run")

// writeGoldens writes the BUILD.bazel files gazelle left in dir as testdata/name's BUILD.out.
func writeGoldens(t *testing.T, dir, name string) {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Name() != "BUILD.bazel" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out := filepath.Join("testdata", name, strings.TrimPrefix(filepath.Dir(p), dir), "BUILD.out")
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDirectiveErrors: a bad directive is logged naming the BUILD file, and ignored (the
// directory keeps the inherited settings).
func TestDirectiveErrors(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{"apk=@base", `BUILD.bazel: # gazelle:wharf_image apk=@base: "apk=@base" is not off, on or KEY=VALUE with a KEY of apks, base, path, platforms, repository, tags, user (the directive is ignored)`},
		{"platforms", `BUILD.bazel: # gazelle:wharf_image platforms: "platforms" is not off, on or KEY=VALUE with a KEY of apks, base, path, platforms, repository, tags, user (the directive is ignored)`},
		{"apks=@x path=usr/bin/x", `BUILD.bazel: # gazelle:wharf_image apks=@x path=usr/bin/x: path: path must be absolute, got "usr/bin/x" (the directive is ignored)`},
	} {
		t.Run(tc.value, func(t *testing.T) {
			dir, cleanup := testtools.CreateFiles(t, []testtools.FileSpec{
				{Path: "MODULE.bazel", Content: ""},
				{Path: "BUILD.bazel", Content: "# gazelle:wharf_image apks=@base\n"},
				{Path: "cmd/app/BUILD.bazel", Content: "# gazelle:wharf_image " + tc.value + "\n"},
				{Path: "cmd/app/main.go", Content: "package main\n\nfunc main() {}\n"},
			})
			defer cleanup()
			logged := runGazelle(t, dir)
			want := filepath.Join(dir, "cmd", "app", tc.want)
			if !strings.Contains(logged, want) {
				t.Errorf("log lacks %q:\n%s", want, logged)
			}
			b, _ := os.ReadFile(filepath.Join(dir, "cmd", "app", "BUILD.bazel"))
			if !strings.Contains(string(b), `apks = "@base",`) {
				t.Errorf("the directory lost the inherited apks:\n%s", b)
			}
		})
	}
}

// TestBadModuleFile: an unparsable MODULE.bazel is logged, and apko images get their
// default repository names. (Gazelle's own configuration refuses such a file before any
// extension runs; this is the extension's message when it runs without it.)
func TestBadModuleFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "MODULE.bazel"), []byte("bazel_dep(\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	log.SetOutput(&logged)
	defer log.SetOutput(os.Stderr)
	c := config.New()
	c.RepoRoot = dir
	NewLanguage().Configure(c, "", nil)
	want := filepath.Join(dir, "MODULE.bazel") + ":3:1: syntax error (apko_image targets get default repository names)"
	if !strings.Contains(logged.String(), want) {
		t.Errorf("log %q lacks %q", logged.String(), want)
	}
	if got := getConfig(c).repos; len(got) != 0 {
		t.Errorf("repos = %v", got)
	}
}
