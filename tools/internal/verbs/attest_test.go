package verbs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/attest"
)

// attestImage builds an image of two layers with the image verb and returns its directory:
// layer0.json, layer1.json (metadata), manifest.json, desc.json, lock.json, sbom.spdx.json.
func attestImage(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, c := range []string{"1", "2"} {
		d := "sha256:" + strings.Repeat(c, 64)
		m := `{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"` + d + `","size":10,"diffID":"sha256:` + strings.Repeat(c+"f", 32) + `"}`
		writeFile(t, filepath.Join(dir, "layer"+c+".json"), []byte(m))
	}
	writeFile(t, filepath.Join(dir, "lock.json"), []byte(`{"version":"v1"}`))
	writeFile(t, filepath.Join(dir, "sbom.spdx.json"), []byte(`{"spdxVersion":"SPDX-2.3","name":"//app:image"}`))
	writeFile(t, filepath.Join(dir, "sbom.cdx.json"), []byte(`{"bomFormat":"CycloneDX"}`))
	err := imageVerb([]string{"--spec-json", `{"os":"linux","architecture":"amd64"}`,
		"--layer", filepath.Join(dir, "layer1.json"), "--layer", filepath.Join(dir, "layer2.json"),
		"--config", filepath.Join(dir, "config.json"), "--manifest", filepath.Join(dir, "manifest.json"),
		"--digest", filepath.Join(dir, "digest"), "--descriptor", filepath.Join(dir, "desc.json")})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func sha256File(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func readStatement(t *testing.T, p string) attest.Statement {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var s attest.Statement
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAttestSBOMSubjectIsTheManifest: both statements name the manifest by the sha256 of its
// bytes (from the descriptor the image verb wrote) and carry the SBOM as predicate.
func TestAttestSBOMSubjectIsTheManifest(t *testing.T) {
	dir := attestImage(t)
	spdx, cdx := filepath.Join(dir, "spdx.intoto.json"), filepath.Join(dir, "cdx.intoto.json")
	if err := attestSBOMVerb([]string{"--name", "//app:image", "--subject", filepath.Join(dir, "desc.json"),
		"--spdx", filepath.Join(dir, "sbom.spdx.json"), "--spdx-out", spdx,
		"--cyclonedx", filepath.Join(dir, "sbom.cdx.json"), "--cyclonedx-out", cdx}); err != nil {
		t.Fatal(err)
	}
	want := sha256File(t, filepath.Join(dir, "manifest.json"))
	for p, pt := range map[string]string{spdx: attest.SPDXPredicate, cdx: attest.CycloneDXPredicate} {
		s := readStatement(t, p)
		if len(s.Subject) != 1 || s.Subject[0].Digest["sha256"] != want || s.Subject[0].Name != "//app:image (linux/amd64)" {
			t.Errorf("%s: subject %+v, want the manifest's sha256 %s", p, s.Subject, want)
		}
		if s.PredicateType != pt || s.Type != attest.StatementType {
			t.Errorf("%s: types %q %q", p, s.Type, s.PredicateType)
		}
	}
	if s := readStatement(t, spdx); string(s.Predicate) != `{"spdxVersion":"SPDX-2.3","name":"//app:image"}` {
		t.Errorf("predicate %s", s.Predicate)
	}
}

func runProvenance(t *testing.T, dir, out string, extra ...string) attest.Provenance {
	t.Helper()
	args := append([]string{"--name", "//app:image", "--target", "//app:image",
		"--subject", filepath.Join(dir, "desc.json"), "--manifest", filepath.Join(dir, "manifest.json"),
		"--layer", filepath.Join(dir, "layer2.json") + "=//app:app_layer",
		"--lock", filepath.Join(dir, "lock.json") + "=//app:apko.lock.json", "--out", out}, extra...)
	if err := provenanceVerb(args); err != nil {
		t.Fatal(err)
	}
	var p attest.Provenance
	if err := json.Unmarshal(readStatement(t, out).Predicate, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProvenanceListsTheLockAndLayers: the lock by its sha256, then every layer of the
// manifest by digest, named by its label where known; unstamped, the same bytes every time.
func TestProvenanceListsTheLockAndLayers(t *testing.T) {
	dir := attestImage(t)
	p := runProvenance(t, dir, filepath.Join(dir, "a.json"))
	deps := p.BuildDefinition.ResolvedDependencies
	if len(deps) != 3 {
		t.Fatalf("dependencies %+v, want the lock and two layers", deps)
	}
	if deps[0].Name != "//app:apko.lock.json" || deps[0].Digest["sha256"] != sha256File(t, filepath.Join(dir, "lock.json")) {
		t.Errorf("lock %+v", deps[0])
	}
	if deps[1].Digest["sha256"] != strings.Repeat("1", 64) || deps[1].Name != "" || deps[2].Digest["sha256"] != strings.Repeat("2", 64) || deps[2].Name != "//app:app_layer" {
		t.Errorf("layers %+v", deps[1:])
	}
	if p.RunDetails.Metadata != nil || p.BuildDefinition.InternalParameters["wharf"] == "" {
		t.Errorf("unstamped run details %+v, parameters %+v", p.RunDetails, p.BuildDefinition.InternalParameters)
	}
	runProvenance(t, dir, filepath.Join(dir, "b.json"))
	a, _ := os.ReadFile(filepath.Join(dir, "a.json"))
	b, _ := os.ReadFile(filepath.Join(dir, "b.json"))
	if !bytes.Equal(a, b) {
		t.Errorf("two unstamped runs differ:\n%s\n%s", a, b)
	}
}

// TestProvenanceStamped: the status files give the build label, time and revision.
func TestProvenanceStamped(t *testing.T) {
	dir := attestImage(t)
	stable := filepath.Join(dir, "stable-status.txt")
	volatile := filepath.Join(dir, "volatile-status.txt")
	writeFile(t, stable, []byte("BUILD_EMBED_LABEL 1.2.3\nSTABLE_GIT_COMMIT "+strings.Repeat("ab", 20)+"\n"))
	writeFile(t, volatile, []byte("BUILD_TIMESTAMP 1700000000\n"))
	p := runProvenance(t, dir, filepath.Join(dir, "s.json"), "--status", volatile, "--status", stable)
	if m := p.RunDetails.Metadata; m == nil || m.InvocationID != "1.2.3" || m.StartedOn != "2023-11-14T22:13:20Z" {
		t.Errorf("metadata %+v", m)
	}
	if d := p.BuildDefinition.ResolvedDependencies[0]; d.Name != "source" || d.Digest["gitCommit"] != strings.Repeat("ab", 20) {
		t.Errorf("source %+v", d)
	}
}

// TestAttestErrors: what a user reads when an input is wrong; no output is left.
func TestAttestErrors(t *testing.T) {
	dir := attestImage(t)
	writeFile(t, filepath.Join(dir, "bad.json"), []byte(`[]`))
	out := filepath.Join(t.TempDir(), "out.json")
	for _, c := range []struct {
		name string
		run  func() error
		want string
	}{
		{"sbom not an object", func() error {
			return attestSBOMVerb([]string{"--name", "n", "--subject", filepath.Join(dir, "desc.json"), "--spdx", filepath.Join(dir, "bad.json"), "--spdx-out", out})
		}, "predicate " + filepath.Join(dir, "bad.json") + ": not a JSON object"},
		{"no subject", func() error {
			return attestSBOMVerb([]string{"--name", "n", "--spdx", filepath.Join(dir, "sbom.spdx.json"), "--spdx-out", out})
		}, "--subject"},
		{"descriptor not one", func() error {
			return provenanceVerb([]string{"--name", "n", "--target", "n", "--subject", filepath.Join(dir, "config.json"), "--out", out})
		}, "descriptor " + filepath.Join(dir, "config.json") + ": no mediaType"},
		{"missing lock", func() error {
			return provenanceVerb([]string{"--name", "n", "--target", "n", "--subject", filepath.Join(dir, "desc.json"), "--lock", dir + "/gone.json=//app:apko.lock.json", "--out", out})
		}, "//app:apko.lock.json: open " + dir + "/gone.json: no such file or directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			t.Logf("message: %v", err)
			if _, err := os.Stat(out); err == nil {
				t.Errorf("left %s behind", out)
			}
		})
	}
}
