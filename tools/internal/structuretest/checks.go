package structuretest

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Status of one check.
type Status string

// The statuses a check ends in.
const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Skip Status = "SKIPPED"
)

// Result is one check's outcome: its name as CST prints it and, on failure, what was
// expected and what was found; on a skip, why.
type Result struct {
	Name   string
	Status Status
	Errors []string
}

func (r *Result) errorf(format string, a ...any) {
	r.Status = Fail
	r.Errors = append(r.Errors, fmt.Sprintf(format, a...))
}

func newResult(name string) *Result { return &Result{Name: name, Status: Pass} }

// Image is what the checks read: the merged filesystem and the config.
type Image struct {
	FS     *FS
	Config ImageConfig
}

// ImageConfig is the part of the image config the checks read, as CST's tar driver gives it.
type ImageConfig struct {
	Env          map[string]string
	Entrypoint   []string
	Cmd          []string
	Workdir      string
	User         string
	ExposedPorts []string // without the protocol, as CST compares them
	Volumes      []string
	Labels       map[string]string
}

func (t FileExistenceTest) run(img *Image) *Result {
	r := newResult("File Existence Test: " + t.Name)
	p := os.Expand(t.Path, func(k string) string { return img.Config.Env[k] })
	e, err := img.FS.Lstat(p)
	shouldExist := t.ShouldExist == nil || *t.ShouldExist
	switch {
	case shouldExist && err != nil:
		r.errorf("File %s should exist but does not, got error: %v", t.Path, err)
		return r
	case !shouldExist && err == nil:
		r.errorf("File %s should not exist but does", t.Path)
	}
	if !shouldExist {
		return r
	}
	if t.Permissions != "" && e.Mode.String() != t.Permissions {
		r.errorf("%s has incorrect permissions. Expected: %s, Actual: %s", t.Path, t.Permissions, e.Mode)
	}
	checkExecutable(r, t, e.Mode)
	if t.Uid != nil && e.Uid != *t.Uid {
		r.errorf("%s has incorrect user ownership. Expected: %d, Actual: %d", t.Path, *t.Uid, e.Uid)
	}
	if t.Gid != nil && e.Gid != *t.Gid {
		r.errorf("%s has incorrect group ownership. Expected: %d, Actual: %d", t.Path, *t.Gid, e.Gid)
	}
	return r
}

var executableBits = map[string]fs.FileMode{"any": 0o111, "owner": 0o100, "group": 0o010, "other": 0o001}

func checkExecutable(r *Result, t FileExistenceTest, mode fs.FileMode) {
	if t.IsExecutableBy == "" {
		return
	}
	bits, ok := executableBits[t.IsExecutableBy]
	if !ok {
		r.errorf("isExecutableBy %q not recognised as a valid option (any, owner, group, other)", t.IsExecutableBy)
		return
	}
	if mode&bits == 0 {
		r.errorf("%s has incorrect executable bit. Expected to be executable by %s, Actual: %s", t.Path, t.IsExecutableBy, mode)
	}
}

// matches is CST's CompileAndRunRegex: a pattern that does not compile never agrees.
func matches(pattern, s string, want bool) (bool, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return false, err
	}
	return re.MatchString(s) == want, nil
}

func (t FileContentTest) run(img *Image) *Result {
	r := newResult("File Content Test: " + t.Name)
	b, err := img.FS.ReadFile(t.Path)
	if err != nil {
		r.errorf("Failed to open %s. Error: %v", t.Path, err)
		return r
	}
	contents := string(b)
	for _, s := range t.ExpectedContents {
		if ok, err := matches(s, contents, true); err != nil {
			r.errorf("expectedContents %q: %v", s, err)
		} else if !ok {
			r.errorf("Expected string '%s' not found in file content string '%s'", s, shorten(contents))
		}
	}
	for _, s := range t.ExcludedContents {
		if ok, err := matches(s, contents, false); err != nil {
			r.errorf("excludedContents %q: %v", s, err)
		} else if !ok {
			r.errorf("Excluded string '%s' found in file content string '%s'", s, shorten(contents))
		}
	}
	return r
}

// shorten keeps a failure message readable for a large file.
func shorten(s string) string {
	const n = 2048
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("... (%d more bytes)", len(s)-n)
}

// Debian's copyright files, and the licenses CST refuses in them (upper case).
const debianDocs = "/usr/share/doc"

var (
	refusedLicenses = []string{"AGPL", "WTFPL"}
	licenseExempt   = []string{"libgnutls30"}
)

func (t LicenseTest) files(img *Image) ([]string, error) {
	files := slices.Clone(t.Files)
	if !t.Debian {
		return files, nil
	}
	dirs, err := img.FS.ReadDir(debianDocs)
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		if d.Mode.IsDir() && !slices.Contains(licenseExempt, path.Base(d.Path)) {
			files = append(files, path.Join(d.Path, "copyright"))
		}
	}
	return files, nil
}

func (t LicenseTest) run(img *Image) *Result {
	r := newResult("License Test")
	files, err := t.files(img)
	if err != nil {
		r.errorf("Error reading directory: %v", err)
		return r
	}
	for _, f := range files {
		b, err := img.FS.ReadFile(f)
		if err != nil {
			r.errorf("Error reading license file for %s: %v", f, err)
			continue
		}
		upper := strings.ToUpper(string(b))
		for _, l := range refusedLicenses {
			if strings.Contains(upper, l) {
				r.errorf("Invalid license for %s, license contains %s", f, l)
			}
		}
	}
	return r
}
