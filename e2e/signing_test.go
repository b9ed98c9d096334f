//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const signingPassword = "e2e-cosign-pw"

// signedPush is what a signed push of examples/hello_image's index left: where, and
// the tools and files to check it with.
type signedPush struct {
	root, wharf, runfiles, execroot, cosign string
	plan                                    string // the plan with the statements added
	repo                                    string
	digest                                  string   // the index's
	children                                []string // its manifests
	keys                                    string   // cosign.key, cosign.pub, other/cosign.pub
	scheme                                  string
}

// TestSigningWithCosign pushes the example index signed with a key cosign generated, with
// an SPDX statement and a SLSA provenance statement, to docker-registry (cosign's tag
// scheme) and to go-containerregistry's registry with the referrers API; the real cosign
// verifies every signature and both attestations and lists them (cosign tree), and
// wharf verify agrees; another key, a tampered attestation and an unsigned image fail in
// both, naming the image. The index's digest is the same signed or not.
func TestSigningWithCosign(t *testing.T) {
	base := prepareSignedPush(t)
	referrers := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	defer referrers.Close()
	for scheme, host := range map[string]string{"tag": startRegistry(t), "referrers": strings.TrimPrefix(referrers.URL, "http://")} {
		t.Run(scheme, func(t *testing.T) {
			p := base
			p.scheme, p.repo = scheme, host+"/signed"
			out := p.push(t, "push_multiarch", p.plan, p.repo, "--sign-key", filepath.Join(p.keys, "cosign.key"), "--signatures", scheme)
			if want := p.repo + "@" + p.digest; strings.TrimSpace(out) != want {
				t.Fatalf("push printed %q, want %q: signing changed the digest", out, want)
			}
			p.cosignAccepts(t)
			p.cosignRefuses(t, host)
		})
	}
}

func prepareSignedPush(t *testing.T) signedPush {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	run(t, root, nil, bazel, "build", "//examples/hello_image:push_multiarch", "//examples/hello_image:push")
	bin := filepath.Join(root, "bazel-bin", "examples", "hello_image")
	p := signedPush{root: root, cosign: tool(t, "cosign"), keys: t.TempDir()}
	p.runfiles = filepath.Join(bin, "push_multiarch.sh.runfiles", "_main")
	p.wharf = filepath.Join(p.runfiles, "..", "rules_wharf_tools~", "cmd", "wharf", "wharf_", "wharf")
	out, err := filepath.EvalSymlinks(filepath.Join(root, "bazel-out"))
	if err != nil {
		t.Fatal(err)
	}
	p.execroot = filepath.Dir(out)
	p.digest = strings.TrimSpace(readFile(t, filepath.Join(bin, "multiarch.digest")))
	var idx v1.IndexManifest
	readJSON(t, filepath.Join(bin, "multiarch.index.json"), &idx)
	for _, m := range idx.Manifests {
		p.children = append(p.children, m.Digest.String())
	}
	env := []string{"COSIGN_PASSWORD=" + signingPassword}
	run(t, p.keys, env, p.cosign, "generate-key-pair")
	os.Mkdir(filepath.Join(p.keys, "other"), 0o755)
	run(t, filepath.Join(p.keys, "other"), env, p.cosign, "generate-key-pair")

	// The statements W2's rules write (SBOM, provenance), here made by the test about
	// the index.
	sbom := readFile(t, filepath.Join(bin, "multiarch.spdx.json"))
	hex := strings.TrimPrefix(p.digest, "sha256:")
	statement := func(file, pt, predicate string) string {
		f := filepath.Join(p.keys, file)
		s := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"//examples/hello_image:multiarch","digest":{"sha256":%q}}],"predicateType":%q,"predicate":%s}`, hex, pt, predicate)
		os.WriteFile(f, []byte(s), 0o644)
		return "--attestation=" + f
	}
	plan := readFile(t, filepath.Join(bin, "push_multiarch.plan")) + "\n" +
		statement("spdx.json", "https://spdx.dev/Document", sbom) + "\n" +
		statement("slsa.json", "https://slsa.dev/provenance/v1", `{"buildDefinition":{"buildType":"https://rules-wharf.dev/oci_image/v1","externalParameters":{"target":"//examples/hello_image:multiarch"}},"runDetails":{"builder":{"id":"https://rules-wharf.dev/bazel"}}}`) + "\n"
	p.plan = filepath.Join(p.keys, "signed.plan")
	os.WriteFile(p.plan, []byte(plan), 0o644)
	return p
}

// push runs wharf push as the launcher of target does (in its runfiles tree) with plan.
func (p signedPush) push(t *testing.T, target, plan, repo string, args ...string) string {
	t.Helper()
	env := []string{"COSIGN_PASSWORD=" + signingPassword}
	runfiles := filepath.Join(p.root, "bazel-bin", "examples", "hello_image", target+".sh.runfiles", "_main")
	return run(t, runfiles, env, p.wharf, append([]string{"push", "--no-bazelrc", "--execroot", p.execroot, "--plan", plan, "--repository", repo}, args...)...)
}

func (p signedPush) cosignFlags(key string) []string {
	f := []string{"--key", filepath.Join(p.keys, key), "--insecure-ignore-tlog=true", "--allow-http-registry", "--allow-insecure-registry"}
	if p.scheme == "referrers" {
		f = append(f, "--experimental-oci11")
	}
	return f
}

// cosignAccepts: cosign verifies each digest's signature and the index's attestations,
// cosign tree lists them, and wharf verify passes.
func (p signedPush) cosignAccepts(t *testing.T) {
	for _, d := range append([]string{p.digest}, p.children...) {
		out := run(t, p.root, nil, p.cosign, append(append([]string{"verify"}, p.cosignFlags("cosign.pub")...), p.repo+"@"+d)...)
		if !strings.Contains(out, `"docker-manifest-digest":"`+d+`"`) {
			t.Errorf("cosign verify %s printed %.300s", d, out)
		}
	}
	ref := p.repo + "@" + p.digest
	for _, typ := range []string{"spdxjson", "slsaprovenance1"} {
		run(t, p.root, nil, p.cosign, append(append([]string{"verify-attestation", "--type", typ}, p.cosignFlags("cosign.pub")...), ref)...)
	}
	treeArgs := []string{"tree", "--allow-http-registry", ref}
	if p.scheme == "referrers" {
		treeArgs = append(treeArgs, "--experimental-oci11")
	}
	tree := run(t, p.root, nil, p.cosign, treeArgs...)
	wants := map[string][]string{
		"tag":       {"Signatures for an image tag: " + p.repo + ":sha256-", "Attestations for an image tag: " + p.repo + ":sha256-"},
		"referrers": {"application/vnd.dev.cosign.artifact.sig.v1+json artifacts via OCI referrer: " + p.repo + "@sha256:", "application/vnd.dev.cosign.artifact.att.v1+json artifacts via OCI referrer"},
	}
	for _, want := range wants[p.scheme] {
		if !strings.Contains(tree, want) {
			t.Errorf("cosign tree lacks %q:\n%s", want, tree)
		}
	}
	t.Logf("cosign tree:\n%s", tree)
	out := p.verify(t, "cosign.pub", true)
	if !strings.Contains(out, "verified "+ref+": signature, https://spdx.dev/Document, https://slsa.dev/provenance/v1") {
		t.Errorf("wharf verify printed %s", out)
	}
}

// verify runs wharf verify on the plan; ok says whether it must pass.
func (p signedPush) verify(t *testing.T, key string, ok bool, wants ...string) string {
	t.Helper()
	args := []string{"verify", "--plan", p.plan, "--repository", p.repo, "--key", filepath.Join(p.keys, key),
		"--attestation", "spdxjson", "--attestation", "slsaprovenance1", "--signatures", p.scheme}
	if ok {
		return run(t, p.runfiles, nil, p.wharf, args...)
	}
	return runFails(t, p.runfiles, nil, wants, p.wharf, args...)
}

// cosignRefuses: another key, a tampered attestation and an unsigned image fail in cosign
// and in wharf verify.
func (p signedPush) cosignRefuses(t *testing.T, host string) {
	ref := p.repo + "@" + p.digest
	// Under referrers cosign falls back to the tag when no referrer verifies, and says so.
	refused := map[string]string{"tag": "no matching signatures", "referrers": "no signatures found"}[p.scheme]
	runFails(t, p.root, nil, []string{refused}, p.cosign, append(append([]string{"verify"}, p.cosignFlags("other/cosign.pub")...), ref)...)
	p.verify(t, "other/cosign.pub", false, ref+": no signature verifies with "+filepath.Join(p.keys, "other/cosign.pub"))

	tamperAttestation(t, p.repo, p.digest)
	runFails(t, p.root, nil, []string{"none of the attestations matched the predicate type: spdxjson, found: https://slsa.dev/provenance/v1"}, p.cosign, append(append([]string{"verify-attestation", "--type", "spdxjson"}, p.cosignFlags("cosign.pub")...), ref)...)
	p.verify(t, "cosign.pub", false, ref+": no https://spdx.dev/Document attestation verifies with", "signed by another key, or the envelope altered")

	// The single-platform image, pushed without a key.
	unsigned := host + "/unsigned"
	plain := filepath.Join(p.root, "bazel-bin", "examples", "hello_image", "push.plan")
	got := strings.TrimSpace(p.push(t, "push", plain, unsigned))
	runFails(t, p.root, nil, []string{"no signatures found"}, p.cosign, append(append([]string{"verify"}, p.cosignFlags("cosign.pub")...), got)...)
	runFails(t, p.root, nil, []string{got + ": no signature (looked in "}, p.wharf, "verify", "--key", filepath.Join(p.keys, "cosign.pub"), got)
}

// tamperAttestation changes the predicate of the first attestation under cosign's .att
// tag of digest, keeping its signature, and deletes the earlier attestation referrers,
// which hold it untouched.
func tamperAttestation(t *testing.T, repo, digest string) {
	t.Helper()
	r, err := name.NewRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	if idx, err := remote.Referrers(r.Digest(digest)); err == nil {
		im, _ := idx.IndexManifest()
		for _, m := range im.Manifests {
			if m.ArtifactType == "application/vnd.dev.cosign.artifact.att.v1+json" {
				if err := remote.Delete(r.Digest(m.Digest.String())); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	tag := r.Tag(strings.Replace(digest, ":", "-", 1) + ".att")
	d, err := remote.Get(tag)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	json.Unmarshal(d.Manifest, &m)
	var layers []v1.Descriptor
	json.Unmarshal(m["layers"], &layers)
	l, err := remote.Layer(r.Digest(layers[0].Digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := l.Compressed()
	body, _ := io.ReadAll(rc)
	var env struct {
		PayloadType string            `json:"payloadType"`
		Payload     []byte            `json:"payload"`
		Signatures  []json.RawMessage `json:"signatures"`
	}
	json.Unmarshal(body, &env)
	env.Payload = bytes.Replace(env.Payload, []byte(`"SPDXID"`), []byte(`"SPDXId"`), 1)
	nb, _ := json.Marshal(env)
	nl := static.NewLayer(nb, layers[0].MediaType)
	if err := remote.WriteLayer(r, nl); err != nil {
		t.Fatal(err)
	}
	layers[0].Digest, _ = nl.Digest()
	layers[0].Size = int64(len(nb))
	m["layers"], _ = json.Marshal(layers)
	raw, _ := json.Marshal(m)
	if err := remote.Put(tag, rawManifest(raw)); err != nil {
		t.Fatal(err)
	}
}

type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error)        { return m, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
