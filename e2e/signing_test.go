//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const signingPassword = "e2e-cosign-pw-7Q"

// signedPush is what a signed push of examples/signed's index left: where, and the tools
// and files to check it with.
type signedPush struct {
	root, bazel, wharf, cosign string
	env                        []string // for tools/bazel: the keys bound, the password passed
	repo                       string
	digest                     string   // the index's
	children                   []string // its manifests
	keys                       string   // cosign.key, cosign.pub, other/cosign.pub
	scheme                     string
}

// TestSigningWithCosign runs `bazel run //examples/signed:push_multiarch` (sign = True, the
// SPDX, CycloneDX and SLSA provenance statements of the index and of each image) with a key
// cosign generated, to docker-registry (cosign's tag scheme) and to go-containerregistry's
// registry with the referrers API (distribution v3.1.2 has none); the real cosign verifies every signature and the
// attestations and lists them (cosign tree), and `bazel run :push_multiarch.verify`
// agrees; another key, a tampered attestation and an unsigned image fail in both, naming
// the image. The index's digest is the same signed or not, and no file Bazel or the push
// wrote holds the key or its password.
func TestSigningWithCosign(t *testing.T) {
	base := prepareSignedPush(t)
	marker := time.Now()
	referrers := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	defer referrers.Close()
	for scheme, host := range map[string]string{"tag": startRegistry(t), "referrers": strings.TrimPrefix(referrers.URL, "http://")} {
		t.Run(scheme, func(t *testing.T) {
			p := base
			p.scheme, p.repo = scheme, host+"/signed"
			// --signatures=auto: each registry is asked whether it answers the referrers API;
			// cosign and verify then look only where the scheme the test expects puts them.
			out := run(t, p.root, p.env, p.bazel, "run", "//examples/signed:push_multiarch", "--",
				"--repository", p.repo, "--sign-key", filepath.Join(p.keys, "cosign.key"))
			if want := p.repo + "@" + p.digest; strings.TrimSpace(out) != want {
				t.Fatalf("push printed %q, want %q: signing changed the digest", out, want)
			}
			p.cosignAccepts(t)
			p.cosignRefuses(t, host)
			if scheme == "tag" {
				p.externalSigner(t, host)
			}
		})
	}
	base.searchForKey(t, marker)
}

func prepareSignedPush(t *testing.T) signedPush {
	root := repoRoot(t)
	p := signedPush{root: root, bazel: filepath.Join(root, "tools", "bazel"), cosign: tool(t, "cosign"), keys: t.TempDir()}
	p.env = []string{"WHARF_BIND=" + p.keys, "WHARF_PASS_ENV=COSIGN_PASSWORD", "COSIGN_PASSWORD=" + signingPassword}
	// The index is named too: Bazel 7 downloads only top-level outputs from a cache hit
	// (--remote_download_outputs=toplevel), and its digest and index are read below.
	run(t, root, nil, p.bazel, "build", "//examples/signed:multiarch", "//examples/signed:push_multiarch", "//examples/signed:push_multiarch.verify", "//examples/signed:push", "//examples/hello_image:push")
	bin := filepath.Join(root, "bazel-bin", "examples", "signed")
	// The tools module's runfiles directory is rules_wharf_tools~ or, with Bazel 8's names, rules_wharf_tools+.
	tools, _ := filepath.Glob(filepath.Join(bin, "push_multiarch.sh.runfiles", "rules_wharf_tools[~+]"))
	if len(tools) != 1 {
		t.Fatalf("push_multiarch.sh.runfiles holds %d rules_wharf_tools directories, want 1: %v", len(tools), tools)
	}
	p.wharf = filepath.Join(tools[0], "cmd", "wharf", "wharf_", "wharf")
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
	return p
}

// searchForKey fails if a file of the output base or the disk cache written since marker
// holds the password or a line of the encrypted key. A canary file holding the password
// shows that the search finds what it looks for.
func (p signedPush) searchForKey(t *testing.T, marker time.Time) {
	base := strings.TrimSpace(run(t, p.root, nil, p.bazel, "info", "output_base"))
	canary := filepath.Join(base, "wharf-e2e-canary")
	os.WriteFile(canary, []byte("x"+signingPassword+"x"), 0o600)
	defer os.Remove(canary)
	secrets := []string{signingPassword}
	for _, l := range strings.Split(readFile(t, filepath.Join(p.keys, "cosign.key")), "\n") {
		if len(l) > 40 {
			secrets = append(secrets, l)
		}
	}
	files, found := 0, []string{}
	for _, dir := range []string{base, filepath.Join(cacheDir(), "out", "disk-cache")} {
		filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
			if err != nil || !fi.Mode().IsRegular() || fi.ModTime().Before(marker) {
				return nil
			}
			files++
			b, _ := os.ReadFile(path)
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					found = append(found, path)
					break
				}
			}
			return nil
		})
	}
	t.Logf("searched %d files written since the signed pushes for the key and its password", files)
	if len(found) != 1 || found[0] != canary {
		t.Errorf("files holding the key or its password: %v, want only the canary %s", found, canary)
	}
}

func (p signedPush) cosignFlags(key string) []string {
	f := []string{"--key", filepath.Join(p.keys, key), "--insecure-ignore-tlog=true", "--allow-http-registry", "--allow-insecure-registry"}
	if p.scheme == "referrers" {
		f = append(f, "--experimental-oci11")
	}
	return f
}

// cosignAccepts: cosign verifies each digest's signature and attestations (the index's
// and each image's own), cosign tree lists them, and wharf verify passes.
func (p signedPush) cosignAccepts(t *testing.T) {
	for _, d := range append([]string{p.digest}, p.children...) {
		out := run(t, p.root, nil, p.cosign, append(append([]string{"verify"}, p.cosignFlags("cosign.pub")...), p.repo+"@"+d)...)
		if !strings.Contains(out, `"docker-manifest-digest":"`+d+`"`) {
			t.Errorf("cosign verify %s printed %.300s", d, out)
		}
		for _, typ := range []string{"spdxjson", "cyclonedx", "slsaprovenance1"} {
			run(t, p.root, nil, p.cosign, append(append([]string{"verify-attestation", "--type", typ}, p.cosignFlags("cosign.pub")...), p.repo+"@"+d)...)
		}
	}
	ref := p.repo + "@" + p.digest
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
	for _, d := range append([]string{p.digest}, p.children...) {
		_, line, ok := strings.Cut(out, "verified "+p.repo+"@"+d+": signature, ")
		line, _, _ = strings.Cut(line, "\n")
		for _, pt := range []string{"https://spdx.dev/Document", "https://cyclonedx.org/bom", "https://slsa.dev/provenance/v1"} {
			if !ok || !strings.Contains(line, pt) {
				t.Errorf("wharf verify did not check %s of %s:\n%s", pt, d, out)
			}
		}
	}
}

// verify runs `bazel run :push_multiarch.verify`, which requires the plan's statements;
// ok says whether it must pass.
func (p signedPush) verify(t *testing.T, key string, ok bool, wants ...string) string {
	t.Helper()
	args := []string{"run", "//examples/signed:push_multiarch.verify", "--", "--repository", p.repo,
		"--key", filepath.Join(p.keys, key), "--signatures", p.scheme}
	if ok {
		return run(t, p.root, p.env, p.bazel, args...)
	}
	return runFails(t, p.root, p.env, wants, p.bazel, args...)
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
	runFails(t, p.root, nil, []string{"none of the attestations matched the predicate type: spdxjson, found: "}, p.cosign, append(append([]string{"verify-attestation", "--type", "spdxjson"}, p.cosignFlags("cosign.pub")...), ref)...)
	p.verify(t, "cosign.pub", false, ref+": no https://spdx.dev/Document attestation verifies with", "signed by another key, or the envelope altered")

	// The single-platform image, pushed without a key.
	unsigned := host + "/unsigned"
	got := strings.TrimSpace(run(t, p.root, nil, p.bazel, "run", "//examples/hello_image:push", "--", "--repository", unsigned))
	runFails(t, p.root, nil, []string{"no signatures found"}, p.cosign, append(append([]string{"verify"}, p.cosignFlags("cosign.pub")...), got)...)
	runFails(t, p.root, nil, []string{got + ": no signature (looked in "}, p.wharf, "verify", "--key", filepath.Join(p.keys, "cosign.pub"), got)
}

// signerScript is docs/signing.md's example signer: openssl signs with $KEY.
const signerScript = `#!/bin/sh
set -e
sig=$(jq -r .payload | base64 -d | openssl dgst -sha256 -sign "$KEY" | base64 -w0)
jq -n --arg sig "$sig" --arg pub "$(openssl pkey -in "$KEY" -pubout)" '{signature: $sig, publicKey: $pub}'
`

// externalSigner pushes examples/signed's image signed by docs/signing.md's example signer
// (wharf run as its launcher runs it, outside tools/bazel's chroot, which lacks jq), and
// with plain PKCS#8 RSA and Ed25519 keys openssl made; cosign verifies each signature and
// an attestation with the matching public key.
func (p signedPush) externalSigner(t *testing.T, host string) {
	for _, tool := range []string{"jq", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s: %v (the example signer needs it)", tool, err)
		}
	}
	dir := t.TempDir()
	write := writer(t, dir)
	write("signer.sh", signerScript)
	os.Chmod(filepath.Join(dir, "signer.sh"), 0o755)
	run(t, dir, nil, "sh", "-c", "openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt > ec.pem && "+
		"openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2>/dev/null && openssl genpkey -algorithm ed25519 -out ed25519.pem && "+
		"for k in ec rsa ed25519; do openssl pkey -in $k.pem -pubout > $k.pub; done")
	out, err := filepath.EvalSymlinks(filepath.Join(p.root, "bazel-out"))
	if err != nil {
		t.Fatal(err)
	}
	runfiles := filepath.Join(p.root, "bazel-bin", "examples", "signed", "push.sh.runfiles", "_main")
	for key, how := range map[string][]string{
		"ec":      {"--signer", filepath.Join(dir, "signer.sh")},
		"rsa":     {"--sign-key", filepath.Join(dir, "rsa.pem")},
		"ed25519": {"--sign-key", filepath.Join(dir, "ed25519.pem")},
	} {
		// Bazel 7 leaves only top-level outputs of a cache hit in the output tree: the other
		// layers come from tools/bazel's disk cache, as they would from the .bazelrc's.
		args := append([]string{"push", "--no-bazelrc", "--execroot", filepath.Dir(out), "--disk-cache", filepath.Join(cacheDir(), "out", "disk-cache"),
			"--plan", "examples/signed/push.plan", "--repository", host + "/" + key}, how...)
		ref := strings.TrimSpace(run(t, runfiles, []string{"KEY=" + filepath.Join(dir, "ec.pem")}, p.wharf, args...))
		flags := []string{"--key", filepath.Join(dir, key+".pub"), "--insecure-ignore-tlog=true", "--allow-http-registry"}
		run(t, p.root, nil, p.cosign, append(append([]string{"verify"}, flags...), ref)...)
		run(t, p.root, nil, p.cosign, append(append([]string{"verify-attestation", "--type", "slsaprovenance1"}, flags...), ref)...)
	}
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
	env.Payload = append(env.Payload, '\n') // the same statement to a JSON reader
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
