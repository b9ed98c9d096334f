package sbom

import (
	"crypto/sha1"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// LayerInput is what the layer's rule knows: the files it put where, the Go binaries among
// them and the Go packages each links (from the Bazel graph).
type LayerInput struct {
	Label string
	// Files: destination in the layer, file (or directory, walked) on disk, label of the
	// target that made it, and whether it is a source file.
	Files []InputFile
	// GoBinaries: destination in the layer of each Go program, its label and file.
	GoBinaries []InputFile
	// GoPackages: for each binary's destination, import path -> label of every package it
	// links; GoMain: its main package.
	GoPackages map[string]map[string]string
	GoMain     map[string]string
	// GoMod: the go.mod (and go.sum) naming modules and versions; nil: not given.
	GoMod *GoModFile
}

// InputFile is one file of a layer's input.
type InputFile struct {
	Dest, Path, Label string
	Source            bool
}

// BuildLayerPart hashes the input's files (streaming; directories walked) and resolves each
// Go binary's packages to modules.
func BuildLayerPart(in LayerInput) (*LayerPart, error) {
	p := &LayerPart{Label: in.Label, Files: []File{}}
	for _, f := range in.Files {
		files, err := hashTree(f)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", f.Path, f.Label, err)
		}
		p.Files = append(p.Files, files...)
	}
	for _, b := range in.GoBinaries {
		bin, err := goBinary(in, b)
		if err != nil {
			return nil, fmt.Errorf("go_binary %s (%s) in layer %s: %w", b.Dest, b.Label, in.Label, err)
		}
		p.GoBinaries = append(p.GoBinaries, bin)
	}
	return p, nil
}

// goBinary describes the binary b: its Go version from its build info, its modules from go.mod.
func goBinary(in LayerInput, b InputFile) (GoBinary, error) {
	info, err := buildinfo.ReadFile(b.Path)
	if err != nil {
		return GoBinary{}, fmt.Errorf("reading its Go build info: %w", err)
	}
	bin := GoBinary{Path: b.Dest, Label: b.Label, GoVersion: info.GoVersion, MainPackage: in.GoMain[b.Dest]}
	pkgs := in.GoPackages[b.Dest]
	if in.GoMod == nil {
		for ip, label := range pkgs {
			if ip != bin.MainPackage && !mainRepository(label) {
				return bin, fmt.Errorf("links %s (%s), whose module only a go.mod names: set the layer's go_mod (and go_sum)", ip, label)
			}
		}
		return bin, nil
	}
	bin.MainModule = in.GoMod.Main()
	bin.Modules, err = in.GoMod.Modules(pkgs)
	return bin, err
}

// mainRepository says whether a label (as label_text writes it) is in the main repository.
func mainRepository(label string) bool {
	return len(label) >= 2 && label[:2] == "//"
}

// hashTree hashes f, or every regular file under it when it is a directory.
func hashTree(f InputFile) ([]File, error) {
	st, err := os.Stat(f.Path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		h, err := hashFile(f.Path, f.Dest, f)
		return []File{h}, err
	}
	var out []File
	err = filepath.WalkDir(f.Path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(f.Path, p)
		if err != nil {
			return err
		}
		h, err := hashFile(p, path.Join(f.Dest, filepath.ToSlash(rel)), f)
		out = append(out, h)
		return err
	})
	return out, err
}

// hashFile is the File at dest in the layer, read from p (streaming: memory is constant).
func hashFile(p, dest string, f InputFile) (File, error) {
	r, err := os.Open(p)
	if err != nil {
		return File{}, err
	}
	defer r.Close()
	s1, s256 := sha1.New(), sha256.New()
	if _, err := io.Copy(io.MultiWriter(s1, s256), r); err != nil {
		return File{}, fmt.Errorf("%s: %w", p, err)
	}
	return File{
		Path: dest, Label: f.Label, Source: f.Source,
		SHA1: hex.EncodeToString(s1.Sum(nil)), SHA256: hex.EncodeToString(s256.Sum(nil)),
	}, nil
}
