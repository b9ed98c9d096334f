package attest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const hexA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func descriptor(platform *v1.Platform) v1.Descriptor {
	return v1.Descriptor{MediaType: "application/vnd.oci.image.manifest.v1+json", Size: 1, Digest: v1.Hash{Algorithm: "sha256", Hex: hexA}, Platform: platform}
}

// The statement's exact bytes: in-toto v1 field names, the predicate compacted as written
// (no HTML escaping), one line.
func TestStatementGolden(t *testing.T) {
	s, err := SubjectOf("//app:image", descriptor(&v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}))
	if err != nil {
		t.Fatal(err)
	}
	st, err := New([]Subject{s}, SPDXPredicate, write(t, "sbom.json", "{\n  \"spdxVersion\": \"SPDX-2.3\",\n  \"comment\": \"a <b> & c\"\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"//app:image (linux/arm64/v8)","digest":{"sha256":"` + hexA + `"}}],"predicateType":"https://spdx.dev/Document","predicate":{"spdxVersion":"SPDX-2.3","comment":"a <b> & c"}}` + "\n"
	if string(b) != want {
		t.Errorf("statement:\n%s\nwant:\n%s", b, want)
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name, want string
		run        func() error
	}{
		{"predicate not an object", "array.json: not a JSON object", func() error {
			_, err := New(nil, SPDXPredicate, write(t, "array.json", "[1]"))
			return err
		}},
		{"predicate not JSON", ": not JSON: ", func() error {
			_, err := New(nil, SPDXPredicate, write(t, "x.json", "{"))
			return err
		}},
		{"no subject", "statement of https://spdx.dev/Document has no subject", func() error {
			_, err := (&Statement{PredicateType: SPDXPredicate}).Marshal()
			return err
		}},
		{"sha512 subject", `subject //a:b: digest "sha512:` + hexA + `" is not a sha256 digest`, func() error {
			d := descriptor(nil)
			d.Digest.Algorithm = "sha512"
			_, err := SubjectOf("//a:b", d)
			return err
		}},
		{"bad timestamp", `workspace status BUILD_TIMESTAMP "yesterday" is not seconds since the epoch`, func() error {
			_, err := (&Build{Status: map[string]string{"BUILD_TIMESTAMP": "yesterday"}}).Statement()
			return err
		}},
		{"missing lock", "//app:apko.lock.json: open /nonexistent/apko.lock.json: no such file or directory", func() error {
			_, err := FileInput("//app:apko.lock.json", "/nonexistent/apko.lock.json")
			return err
		}},
		{"sha512 layer", `: layer digest "sha512:` + hexA + hexA + `" is not a sha256 digest`, func() error {
			_, err := ManifestLayers(write(t, "m.json", `{"schemaVersion":2,"layers":[{"mediaType":"x","size":1,"digest":"sha512:`+hexA+hexA+`"}]}`), nil)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// Unstamped, the provenance has no run metadata and no source; stamped, it has the label,
// the time and the revision (a commit hash as gitCommit; "-dirty" text as an annotation only).
func TestProvenanceStamping(t *testing.T) {
	subject, _ := SubjectOf("//app:image", descriptor(nil))
	b := &Build{Target: "//app:image", Subjects: []Subject{subject}}
	p := provenanceOf(t, b)
	if p.RunDetails.Metadata != nil || len(p.BuildDefinition.ResolvedDependencies) != 0 {
		t.Errorf("unstamped provenance has %+v, %+v", p.RunDetails.Metadata, p.BuildDefinition.ResolvedDependencies)
	}
	commit := strings.Repeat("0123456789", 4)
	b.Status = map[string]string{"BUILD_EMBED_LABEL": "1.2.3", "BUILD_TIMESTAMP": "1700000000", "STABLE_GIT_COMMIT": commit}
	p = provenanceOf(t, b)
	if m := p.RunDetails.Metadata; m == nil || m.InvocationID != "1.2.3" || m.StartedOn != "2023-11-14T22:13:20Z" {
		t.Errorf("stamped metadata %+v", m)
	}
	if deps := p.BuildDefinition.ResolvedDependencies; len(deps) != 1 || deps[0].Digest["gitCommit"] != commit {
		t.Errorf("stamped dependencies %+v, want the source at %s", deps, commit)
	}
	b.Status = map[string]string{"BUILD_SCM_REVISION": commit[:12] + "-dirty"}
	p = provenanceOf(t, b)
	if deps := p.BuildDefinition.ResolvedDependencies; len(deps) != 1 || deps[0].Digest != nil || string(deps[0].Content) != commit[:12]+"-dirty" || deps[0].Annotations["revision"] != commit[:12]+"-dirty" {
		t.Errorf("dirty revision: dependencies %+v", deps)
	}
}

func provenanceOf(t *testing.T, b *Build) Provenance {
	t.Helper()
	st, err := b.Statement()
	if err != nil {
		t.Fatal(err)
	}
	if st.PredicateType != ProvenancePredicate || st.Type != StatementType {
		t.Errorf("statement types %q, %q", st.Type, st.PredicateType)
	}
	var p Provenance
	if err := json.Unmarshal(st.Predicate, &p); err != nil {
		t.Fatal(err)
	}
	if p.BuildDefinition.BuildType != BuildType || p.RunDetails.Builder.ID != BuilderID || p.BuildDefinition.ExternalParameters["target"] != b.Target {
		t.Errorf("provenance %+v", p)
	}
	return p
}
