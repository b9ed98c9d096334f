package push

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
	"github.com/rules-wharf/rules_wharf/tools/internal/oci"
)

// A plan is the hand-off from an oci_push target to push: one flag per line, written by
// the rule from its image's providers, so that `bazel run` needs only these small files in
// its runfiles and never the layers:
//
//	--label=//app:push
//	--descriptor=RUNFILE           the top manifest's descriptor (image or index)
//	--json=RUNFILE                 an index, manifest or config, by content
//	--layer=EXECPATH=RUNFILE       a layer blob's path in the output tree and its metadata
//	--extern=RUNFILE               layers kept in an imported layout (their metadata list),
//	--extern-dir=EXECPATH          then the directories holding them (blobs/sha256/…),
//	--extern-origin=REPOSITORY     and the registry repository they were pulled from
//	--repository=REPOSITORY        the rule's repository, if any
//	--tags-file=RUNFILE            the rule's tags, one per line
//	--attestation=RUNFILE          an unsigned in-toto statement about digests of this push,
//	                               signed and attached by push (repeatable)
//	--sign=required                fail before uploading when no key or signer is given
//
// RUNFILE paths are relative to the runfiles tree's main repository directory (push's
// working directory under `bazel run`); EXECPATH ones to the execution root, where they
// exist only when the build left the file on this machine.

// Target is one image or index to push, as a plan describes it.
type Target struct {
	Label      string
	Repository string // the rule's; the command line may override it
	Tags       []string
	Top        v1.Descriptor
	// Attestations are the plan's statements, signed and attached when push signs.
	Attestations []Attestation
	// SignRequired: oci_push(sign = True); pushing unsigned is an error.
	SignRequired bool
	manifests    map[v1.Hash][]byte // index, manifests and configs by digest
	layers       map[v1.Hash]*Blob
	extern       []*Blob // the blobs of the last --extern, which --extern-dir and --extern-origin refine
}

// Blob is one layer blob and the places it may be found.
type Blob struct {
	Desc   v1.Descriptor
	Local  []string         // candidate files, from the output tree
	Origin *name.Repository // the registry repository it was pulled from, if any
}

// ReadPlan reads a plan file; runfiles and execroot resolve its paths (execroot may be
// empty when unknown: no layer is then looked for in the output tree).
func ReadPlan(path, runfiles, execroot string) (*Target, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t := &Target{manifests: map[v1.Hash][]byte{}, layers: map[v1.Hash]*Blob{}}
	at := planPaths{runfiles, execroot}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		flag, value, ok := strings.Cut(sc.Text(), "=")
		if sc.Text() == "" {
			continue
		}
		if !ok {
			return nil, fmt.Errorf("plan %s:%d: %q is not --FLAG=VALUE", path, line, sc.Text())
		}
		if err := t.add(flag, value, at); err != nil {
			return nil, fmt.Errorf("plan %s:%d: %s: %w", path, line, flag, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("plan %s: %w", path, err)
	}
	if t.Top.Digest.Hex == "" {
		return nil, fmt.Errorf("plan %s: no --descriptor", path)
	}
	return t, nil
}

// planPaths resolve a plan's paths: RUNFILE ones in the runfiles tree, EXECPATH ones in
// the execution root.
type planPaths struct{ runfiles, execroot string }

func (at planPaths) runfile(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(at.runfiles, p)
}

// exec is where an EXECPATH's file may be; none when the execution root is unknown.
func (at planPaths) exec(p string) []string {
	if filepath.IsAbs(p) {
		return []string{p}
	}
	if at.execroot == "" {
		return nil
	}
	out := []string{filepath.Join(at.execroot, p)}
	if strings.HasPrefix(p, "external/") {
		// An external repository's files are in the output base, two levels above
		// the execution root; the execution root links to them only for actions.
		out = append(out, filepath.Join(at.execroot, "..", "..", p))
	}
	return out
}

// add applies one line of a plan.
func (t *Target) add(flag, value string, at planPaths) error {
	var err error
	switch flag {
	case "--label":
		t.Label = value
	case "--repository":
		t.Repository = value
	case "--tags-file":
		t.Tags, err = ReadTagsFile(at.runfile(value))
	case "--descriptor":
		t.Top, err = oci.ReadDescriptor(at.runfile(value))
	case "--json":
		err = t.addJSON(at.runfile(value))
	case "--layer":
		err = t.addLocalLayer(value, at)
	case "--extern":
		err = t.addExtern(value, at.runfile(value))
	case "--extern-dir":
		err = t.addExternDir(at.exec(value))
	case "--extern-origin":
		err = t.addExternOrigin(value)
	case "--attestation":
		err = t.addAttestation(value, at.runfile(value))
	case "--sign":
		if value != "required" {
			return fmt.Errorf("%q: want required", value)
		}
		t.SignRequired = true
	default:
		return fmt.Errorf("unknown flag")
	}
	return err
}

// addJSON adds an index, manifest or config, by its digest.
func (t *Target) addJSON(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	d, _, err := v1.SHA256(bytes.NewReader(b))
	if err != nil {
		return err
	}
	t.manifests[d] = b
	return nil
}

// addLocalLayer adds a layer of EXECPATH=METADATA: its metadata, and where the build
// may have left its blob.
func (t *Target) addLocalLayer(value string, at planPaths) error {
	blob, meta, ok := strings.Cut(value, "=")
	if !ok {
		return fmt.Errorf("%q: want EXECPATH=METADATA", value)
	}
	m, err := layer.ReadMetadata(at.runfile(meta))
	if err != nil {
		return err
	}
	return t.addLayer(m, at.exec(blob), nil)
}

// addExtern adds the layers of an imported layout's metadata list (value, at path),
// which the next --extern-dir and --extern-origin refine.
func (t *Target) addExtern(value, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var metas []*layer.Metadata
	if err := json.Unmarshal(b, &metas); err != nil {
		return fmt.Errorf("%s: %w", value, err)
	}
	t.extern = nil
	for _, m := range metas {
		if err := t.addLayer(m, nil, nil); err != nil {
			return fmt.Errorf("%s: %w", value, err)
		}
		t.extern = append(t.extern, t.layers[mustHash(m.Digest)])
	}
	return nil
}

// addExternDir adds directories holding the last --extern's blobs under blobs/sha256/.
func (t *Target) addExternDir(dirs []string) error {
	if t.extern == nil {
		return errors.New("no --extern before it")
	}
	for _, dir := range dirs {
		for _, b := range t.extern {
			b.Local = append(b.Local, filepath.Join(dir, "blobs", "sha256", b.Desc.Digest.Hex))
		}
	}
	return nil
}

// addExternOrigin names the repository the last --extern's blobs were pulled from.
func (t *Target) addExternOrigin(value string) error {
	if t.extern == nil {
		return errors.New("no --extern before it")
	}
	r, err := name.NewRepository(value)
	if err != nil {
		return err
	}
	for _, b := range t.extern {
		if b.Origin == nil {
			b.Origin = &r
		}
	}
	return nil
}

func mustHash(s string) v1.Hash {
	h, err := v1.NewHash(s)
	if err != nil {
		panic(err) // validated by addLayer first
	}
	return h
}

func (t *Target) addLayer(m *layer.Metadata, local []string, origin *name.Repository) error {
	if err := m.Validate(); err != nil {
		return err
	}
	d, err := v1.NewHash(m.Digest)
	if err != nil {
		return err
	}
	b := t.layers[d]
	if b == nil {
		b = &Blob{Desc: v1.Descriptor{Digest: d, Size: m.Size, MediaType: types.MediaType(m.MediaType)}}
		t.layers[d] = b
	}
	b.Local = append(b.Local, local...)
	if origin != nil && b.Origin == nil {
		b.Origin = origin
	}
	return nil
}
