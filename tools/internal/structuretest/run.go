package structuretest

import (
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Options is one structure test: the CST files, the image and the policy.
type Options struct {
	Configs     []string // CST YAML files
	ImageConfig string   // the image config JSON
	Layers      []Layer  // bottom first
	Policy      Policy
}

// ErrFailed is returned when a check failed; the report names which.
var ErrFailed = errors.New("structure test failed")

// Run reads the configs and the image and runs every check, in CST's order per file
// (command, file content, file existence, license, metadata), then the policy's.
func Run(o Options) ([]*Result, error) {
	var configs []*Config
	for _, f := range o.Configs {
		c, err := LoadConfig(f)
		if err != nil {
			return nil, err
		}
		configs = append(configs, c)
	}
	cfg, cf, err := ReadImageConfig(o.ImageConfig)
	if err != nil {
		return nil, err
	}
	img, err := readImage(o, configs, cfg)
	if err != nil {
		return nil, err
	}
	var out []*Result
	for _, c := range configs {
		out = append(out, c.run(img, o.Layers)...)
	}
	pol, err := o.Policy.run(img, cf.RootFS.DiffIDs)
	if err != nil {
		return nil, err
	}
	return append(out, pol...), nil
}

// readImage streams the layers once, keeping the bytes of the files the checks read.
func readImage(o Options, configs []*Config, cfg ImageConfig) (*Image, error) {
	paths := map[string]bool{"/etc/passwd": o.Policy.NonRoot}
	debian := false
	for _, c := range configs {
		for _, t := range c.FileContentTests {
			paths[path.Clean("/"+t.Path)] = true
		}
		for _, t := range c.LicenseTests {
			debian = debian || t.Debian
			for _, f := range t.Files {
				paths[path.Clean("/"+f)] = true
			}
		}
	}
	want := func(p string) bool {
		return paths[p] || debian && strings.HasPrefix(p, debianDocs+"/") && path.Base(p) == "copyright" && path.Dir(path.Dir(p)) == debianDocs
	}
	fs, err := Read(o.Layers, want)
	if err != nil {
		return nil, err
	}
	img := &Image{FS: fs, Config: cfg}
	var list []string
	for p, on := range paths {
		if on {
			list = append(list, p)
		}
	}
	for _, c := range configs {
		for _, t := range c.LicenseTests {
			files, _ := t.files(img)
			list = append(list, files...)
		}
	}
	return img, fs.Fill(o.Layers, list)
}

func (c *Config) run(img *Image, layers []Layer) []*Result {
	var out []*Result
	if len(c.CommandTests) > 0 {
		r, skip := newRunner(layers, img, c.GlobalEnvVars)
		if r != nil {
			if err := r.probe(); err != nil {
				r, skip = nil, fmt.Sprintf("SKIPPED: runc is on PATH but cannot start a container here: %v", err)
			}
		}
		for _, t := range c.CommandTests {
			if r == nil {
				out = append(out, &Result{Name: "Command Test: " + t.Name, Status: Skip, Errors: []string{skip}})
				continue
			}
			out = append(out, r.run(t))
		}
	}
	for _, t := range c.FileContentTests {
		out = append(out, t.run(img))
	}
	for _, t := range c.FileExistenceTests {
		out = append(out, t.run(img))
	}
	for _, t := range c.LicenseTests {
		out = append(out, t.run(img))
	}
	if !c.MetadataTest.empty() {
		out = append(out, c.MetadataTest.run(img.Config))
	}
	return out
}

func (p Policy) run(img *Image, diffIDs []v1.Hash) ([]*Result, error) {
	var out []*Result
	if p.NonRoot {
		out = append(out, p.checkUser(img))
	}
	out = append(out, p.checkFiles(img)...)
	if len(p.ForbiddenPaths) > 0 {
		out = append(out, p.checkPaths(img))
	}
	if len(p.AllowedBaseDigests) > 0 {
		ids := make([]string, len(diffIDs))
		for i, d := range diffIDs {
			ids[i] = d.String()
		}
		out = append(out, p.checkBase(ids))
	}
	if p.needsSBOM() {
		if p.SBOM == "" {
			return nil, fmt.Errorf("package or license rules need the image's SBOM, and the image has none (its contents list no packages)")
		}
		pkgs, err := ReadSBOM(p.SBOM)
		if err != nil {
			return nil, err
		}
		out = append(out, p.checkPackages(pkgs)...)
	}
	return out, nil
}

// Report writes one line per check and, under a failed one, what was expected and found;
// it returns ErrFailed when a check failed.
func Report(w io.Writer, results []*Result) error {
	var pass, fail, skip int
	for _, r := range results {
		fmt.Fprintf(w, "=== %s: %s\n", r.Status, r.Name)
		for _, e := range r.Errors {
			fmt.Fprintf(w, "    %s\n", e)
		}
		switch r.Status {
		case Pass:
			pass++
		case Fail:
			fail++
		case Skip:
			skip++
		}
	}
	fmt.Fprintf(w, "Passes: %d, Failures: %d, Skipped: %d, Total: %d\n", pass, fail, skip, len(results))
	if fail > 0 {
		return fmt.Errorf("%w: %d of %d checks failed", ErrFailed, fail, len(results))
	}
	return nil
}
