package verbs

import (
	"fmt"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/sbom"
)

// sbomLayerVerb writes a layer's part of its images' SBOMs: the files the rule put in with
// their labels and hashes, and its Go binaries with their modules.
func sbomLayerVerb(args []string) error {
	var files, bins, pkgs, mains cli.Strings
	var label, goMod, goSum, out string
	fs := newFlags("sbom-layer")
	fs.StringVar(&label, "label", "", "the layer's label")
	fs.Var(&files, "file", "DEST\\tPATH\\tLABEL\\t(source|generated): a file (or directory) the rule put at DEST (repeatable)")
	fs.Var(&bins, "go-binary", "DEST\\tPATH\\tLABEL: a Go program at DEST (repeatable)")
	fs.Var(&pkgs, "go-package", "DEST\\tIMPORTPATH\\tLABEL: a package the program at DEST links (repeatable)")
	fs.Var(&mains, "go-main", "DEST\\tIMPORTPATH: the main package of the program at DEST (repeatable)")
	fs.StringVar(&goMod, "go-mod", "", "go.mod naming the modules and versions of the Go packages")
	fs.StringVar(&goSum, "go-sum", "", "go.sum with their checksums")
	fs.StringVar(&out, "out", "", "output: the layer's SBOM part (JSON)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("label", label, "out", out); err != nil {
		return err
	}
	var err error
	in := sbom.LayerInput{Label: label, GoPackages: map[string]map[string]string{}, GoMain: map[string]string{}}
	if in.Files, err = inputFiles("file", files, 4); err != nil {
		return err
	}
	if in.GoBinaries, err = inputFiles("go-binary", bins, 3); err != nil {
		return err
	}
	if err := goPackages(&in, pkgs, mains); err != nil {
		return err
	}
	if goMod != "" {
		if in.GoMod, err = sbom.ReadGoMod(goMod, goSum); err != nil {
			return err
		}
	}
	part, err := sbom.BuildLayerPart(in)
	if err != nil {
		return err
	}
	return sbom.WriteLayerPart(out, part)
}

// splitTabs splits a flag value into n tab-separated fields.
func splitTabs(flag, v string, n int) ([]string, error) {
	f := strings.Split(v, "\t")
	if len(f) != n {
		return nil, fmt.Errorf("--%s %q: want %d tab-separated fields, got %d", flag, v, n, len(f))
	}
	return f, nil
}

func inputFiles(flag string, values []string, n int) ([]sbom.InputFile, error) {
	var out []sbom.InputFile
	for _, v := range values {
		f, err := splitTabs(flag, v, n)
		if err != nil {
			return nil, err
		}
		out = append(out, sbom.InputFile{Dest: f[0], Path: f[1], Label: f[2], Source: n == 4 && f[3] == "source"})
	}
	return out, nil
}

func goPackages(in *sbom.LayerInput, pkgs, mains []string) error {
	for _, v := range pkgs {
		f, err := splitTabs("go-package", v, 3)
		if err != nil {
			return err
		}
		if in.GoPackages[f[0]] == nil {
			in.GoPackages[f[0]] = map[string]string{}
		}
		in.GoPackages[f[0]][f[1]] = f[2]
	}
	for _, v := range mains {
		f, err := splitTabs("go-main", v, 2)
		if err != nil {
			return err
		}
		in.GoMain[f[0]] = f[1]
	}
	return nil
}
