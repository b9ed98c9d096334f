package verbs

import (
	"runtime"
	"slices"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/attest"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
	"github.com/rules-wharf/rules_wharf/tools/internal/stamp"
)

// subjects names each descriptor's manifest or index by digest: the first by name alone, an
// image of an index with its platform too.
func subjects(name string, descriptors []string) ([]attest.Subject, error) {
	var out []attest.Subject
	for _, p := range descriptors {
		d, err := oci.ReadDescriptor(p)
		if err != nil {
			return nil, err
		}
		s, err := attest.SubjectOf(name, d)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// attestSBOMVerb writes in-toto statements whose predicates are the image's SBOMs (SPDX,
// CycloneDX), about the manifest or index its descriptor names.
func attestSBOMVerb(args []string) error {
	var descriptors cli.Strings
	var name, spdx, spdxOut, cdx, cdxOut string
	fs := newFlags("attest-sbom")
	fs.StringVar(&name, "name", "", "the subject's name (the image's label)")
	fs.Var(&descriptors, "subject", "descriptor JSON of the manifest or index the statements are about (repeatable)")
	fs.StringVar(&spdx, "spdx", "", "the SPDX 2.3 JSON SBOM")
	fs.StringVar(&spdxOut, "spdx-out", "", "output: its statement (predicateType "+attest.SPDXPredicate+")")
	fs.StringVar(&cdx, "cyclonedx", "", "the CycloneDX JSON SBOM")
	fs.StringVar(&cdxOut, "cyclonedx-out", "", "output: its statement (predicateType "+attest.CycloneDXPredicate+")")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("name", name, "subject", strings.Join(descriptors, ","), "spdx", spdx, "spdx-out", spdxOut); err != nil {
		return err
	}
	subs, err := subjects(name, descriptors)
	if err != nil {
		return err
	}
	var outs atomicfile.Set
	defer outs.Abort()
	for _, w := range []struct{ in, out, predicateType string }{{spdx, spdxOut, attest.SPDXPredicate}, {cdx, cdxOut, attest.CycloneDXPredicate}} {
		if w.in == "" {
			continue
		}
		if err := writeStatement(&outs, subs, w.predicateType, w.in, w.out); err != nil {
			return err
		}
	}
	return outs.Commit()
}

func writeStatement(outs *atomicfile.Set, subs []attest.Subject, predicateType, in, out string) error {
	s, err := attest.New(subs, predicateType, in)
	if err != nil {
		return err
	}
	b, err := s.Marshal()
	if err != nil {
		return err
	}
	return outs.WriteFile(out, b)
}

// provenanceFlags are the provenance verb's inputs.
type provenanceFlags struct {
	name, target, out                     string
	descriptors, manifests, layers, locks cli.Strings
	bases, status                         cli.Strings
}

// provenanceVerb writes SLSA provenance v1 as an in-toto statement about an image (or an
// index and its images): the target, the locks by sha256, the bases and layers by digest,
// and, when stamping, the source revision, build label and time from the workspace status.
func provenanceVerb(args []string) error {
	var f provenanceFlags
	fs := newFlags("provenance")
	fs.StringVar(&f.name, "name", "", "the subjects' name (the image's label)")
	fs.StringVar(&f.target, "target", "", "the target built (externalParameters.target)")
	fs.Var(&f.descriptors, "subject", "descriptor JSON of a manifest or index the provenance is about (repeatable; an index first, then its images)")
	fs.Var(&f.manifests, "manifest", "an image manifest whose layers were built (repeatable)")
	fs.Var(&f.layers, "layer", "METADATA=LABEL: the target that made a layer, by its metadata (repeatable)")
	fs.Var(&f.locks, "lock", "PATH=LABEL: a lock file the contents came from, recorded by sha256 (repeatable)")
	fs.Var(&f.bases, "base", "DESCRIPTOR=NAME: a base image by digest (repeatable)")
	fs.Var(&f.status, "status", "a workspace status file (repeatable; given only when stamping)")
	fs.StringVar(&f.out, "out", "", "output: the statement (predicateType "+attest.ProvenancePredicate+")")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("name", f.name, "target", f.target, "subject", strings.Join(f.descriptors, ","), "out", f.out); err != nil {
		return err
	}
	b, err := f.build()
	if err != nil {
		return err
	}
	s, err := b.Statement()
	if err != nil {
		return err
	}
	out, err := s.Marshal()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(f.out, out)
}

// build reads the flags' files into what the provenance records.
func (f *provenanceFlags) build() (*attest.Build, error) {
	b := &attest.Build{
		Target:   f.target,
		Versions: map[string]string{"rules_wharf": Version, "wharf": Version, "go": runtime.Version()},
	}
	var err error
	if b.Subjects, err = subjects(f.name, f.descriptors); err != nil {
		return nil, err
	}
	if len(f.status) > 0 {
		if b.Status, err = stamp.ReadStatus(f.status...); err != nil {
			return nil, err
		}
	}
	for _, read := range []func() ([]attest.ResourceDescriptor, error){f.lockInputs, f.baseInputs, f.layerInputs} {
		in, err := read()
		if err != nil {
			return nil, err
		}
		b.Inputs = append(b.Inputs, in...)
	}
	return b, nil
}

func (f *provenanceFlags) lockInputs() ([]attest.ResourceDescriptor, error) {
	var out []attest.ResourceDescriptor
	for _, l := range f.locks {
		path, label, _ := strings.Cut(l, "=")
		d, err := attest.FileInput(label, path)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (f *provenanceFlags) baseInputs() ([]attest.ResourceDescriptor, error) {
	var out []attest.ResourceDescriptor
	for _, b := range f.bases {
		path, name, _ := strings.Cut(b, "=")
		d, err := oci.ReadDescriptor(path)
		if err != nil {
			return nil, err
		}
		out = append(out, attest.DescriptorInput(name, d))
	}
	return out, nil
}

// layerInputs lists every manifest's layers once, named by the labels of --layer.
func (f *provenanceFlags) layerInputs() ([]attest.ResourceDescriptor, error) {
	labels := map[string]string{}
	for _, l := range f.layers {
		path, label, _ := strings.Cut(l, "=")
		m, err := oci.ReadMetadata([]string{path})
		if err != nil {
			return nil, err
		}
		// The first wins: an index's images list their layers in platform order, and a
		// layer the same on two platforms (a noarch package) keeps the first one's label.
		if _, ok := labels[m[0].Digest]; !ok {
			labels[m[0].Digest] = label
		}
	}
	var out []attest.ResourceDescriptor
	seen := map[string]bool{}
	for _, p := range f.manifests {
		layers, err := attest.ManifestLayers(p, labels)
		if err != nil {
			return nil, err
		}
		for _, l := range layers {
			if !seen[l.Digest["sha256"]] {
				seen[l.Digest["sha256"]] = true
				out = append(out, l)
			}
		}
	}
	return slices.Clip(out), nil
}
