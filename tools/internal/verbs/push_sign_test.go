package verbs

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/rules-wharf/rules_wharf/tools/internal/registrytest"
	"github.com/rules-wharf/rules_wharf/tools/internal/sign/signtest"
)

const signPassword = "pw-S3CRET-sign-91"

// testStatement writes an in-toto statement of predicate type pt about digests.
func testStatement(t *testing.T, pt string, digests ...string) string {
	t.Helper()
	var subs []string
	for _, d := range digests {
		subs = append(subs, fmt.Sprintf(`{"name":"//test:image","digest":{"sha256":%q}}`, strings.TrimPrefix(d, "sha256:")))
	}
	p := filepath.Join(t.TempDir(), "statement.json")
	os.WriteFile(p, []byte(fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[%s],"predicateType":%q,"predicate":{}}`, strings.Join(subs, ","), pt)), 0o644)
	return p
}

// signedPlan is the layout's plan with the rule's repository, --sign=required and an SPDX
// and a SLSA statement about the index.
func signedPlan(t *testing.T, l *pushLayout, repo string) string {
	return l.withLines(t, "--repository="+repo, "--sign=required",
		"--attestation="+testStatement(t, "https://spdx.dev/Document", l.digest),
		"--attestation="+testStatement(t, "https://slsa.dev/provenance/v1", l.digest))
}

func runVerify(t *testing.T, args ...string) (string, error) {
	t.Helper()
	r, w, _ := os.Pipe()
	old := os.Stdout
	os.Stdout = w
	err := verifyVerb(args, io.Discard)
	os.Stdout = old
	w.Close()
	b, _ := io.ReadAll(r)
	return strings.TrimSpace(string(b)), err
}

// A push with cosign's encrypted key signs the index and its manifests and attaches the
// attestations, under either scheme; the index's digest is what it was; verify passes
// with the key and fails with another key or a missing attestation, naming the image.
func TestPushSignsAndVerifies(t *testing.T) {
	for _, referrers := range []bool{false, true} {
		t.Run(map[bool]string{false: "tag", true: "referrers"}[referrers], func(t *testing.T) {
			noCredentials(t)
			l := newPushLayout(t)
			reg := registrytest.New(t, ggcrregistry.WithReferrersSupport(referrers))
			dir := t.TempDir()
			k, other := signtest.ECKey(t), signtest.ECKey(t)
			key := signtest.WriteCosignKey(t, dir, "cosign.key", k, signPassword)
			pub, otherPub := signtest.WritePublicKey(t, dir, "cosign.pub", k), signtest.WritePublicKey(t, dir, "other.pub", other)
			t.Setenv("COSIGN_PASSWORD", signPassword)
			plan := signedPlan(t, l, reg.Host+"/app")
			out, stderr, err := runPushStreams(t, noRC, "--plan", plan, "--sign-key", key)
			if err != nil {
				t.Fatal(err)
			}
			assertPushed(t, reg, "app", l, out)
			assertSaid(t, "stderr", stderr, "push: signed "+out+": 3 manifest(s), 2 attestation(s)")
			got, err := runVerify(t, "--plan", plan, "--key", pub, "--attestation", "spdxjson", "--attestation", "slsaprovenance1")
			if err != nil {
				t.Fatal(err)
			}
			assertSaid(t, "verify", got, "verified "+out+": signature, https://spdx.dev/Document, https://slsa.dev/provenance/v1",
				"verified "+reg.Host+"/app@"+l.manifests[0]+": signature")
			if got, err := runVerify(t, "--key", pub, out); err != nil || !strings.Contains(got, "verified "+reg.Host+"/app@"+l.manifests[1]) {
				t.Errorf("verify IMAGE@DIGEST: %q, %v", got, err)
			}
			_, err = runVerify(t, "--plan", plan, "--key", otherPub)
			assertSaid(t, "another key", fmt.Sprint(err), "verify: 3 of 3 images failed with key "+otherPub+"\n"+out+": no signature verifies with "+otherPub)
			_, err = runVerify(t, "--plan", plan, "--key", pub, "--attestation", "cyclonedx")
			assertSaid(t, "missing attestation", fmt.Sprint(err), out+": no attestation of type https://cyclonedx.org/bom (looked in ")
			if referrers {
				assertReferrers(t, out, map[string]int{"application/vnd.dev.cosign.artifact.sig.v1+json": 1, "application/vnd.dev.cosign.artifact.att.v1+json": 1})
			}
		})
	}
}

// oci_push(sign = True) with no key or signer fails before anything is uploaded.
func TestPushSignRequired(t *testing.T) {
	noCredentials(t)
	t.Setenv("WHARF_SIGN_KEY", "")
	t.Setenv("WHARF_SIGNER", "")
	l := newPushLayout(t)
	reg := registrytest.New(t)
	_, err := runPush(t, "--plan", signedPlan(t, l, reg.Host+"/app"))
	assertSaid(t, "push", fmt.Sprint(err), "//test:push must be signed (oci_push sign = True) and no key or signer is given: --sign-key FILE (or $WHARF_SIGN_KEY) or --signer PROGRAM (or $WHARF_SIGNER); nothing was pushed")
	for _, b := range l.blobs {
		if reg.HasBlob("app", b) {
			t.Errorf("blob %s was uploaded", b)
		}
	}
}

// Without a key, a plan's attestations are not pushed, and push says so; a statement
// about a digest the push does not push is refused, naming it.
func TestPushAttestationsUnsignedOrForeign(t *testing.T) {
	noCredentials(t)
	l := newPushLayout(t)
	reg := registrytest.New(t)
	st := testStatement(t, "https://spdx.dev/Document", l.digest)
	_, stderr, err := runPushStreams(t, noRC, "--plan", l.withLines(t, "--attestation="+st), "--repository", reg.Host+"/app")
	if err != nil {
		t.Fatal(err)
	}
	assertSaid(t, "stderr", stderr, "push: 1 attestation(s) not pushed: no key or signer (--sign-key, --signer, $WHARF_SIGN_KEY, $WHARF_SIGNER)")
	foreign := testStatement(t, "https://spdx.dev/Document", "sha256:"+strings.Repeat("0", 64))
	_, err = runPush(t, "--plan", l.withLines(t, "--attestation="+foreign), "--repository", reg.Host+"/app")
	assertSaid(t, "push", fmt.Sprint(err), "//test:push: attestation "+foreign+" names sha256:"+strings.Repeat("0", 64)+", which this push does not push (it pushes ")
	_, err = runPush(t, "--plan", l.withLines(t, "--sign=maybe"), "--repository", reg.Host+"/app")
	assertSaid(t, "push", fmt.Sprint(err), `: --sign: "maybe": want required`)
}

// The key's bytes and its password appear in no message of a push, failed or not, and
// in no file push leaves.
func TestPushSigningHoldsNoSecret(t *testing.T) {
	noCredentials(t)
	l := newPushLayout(t)
	reg := registrytest.New(t)
	dir := t.TempDir()
	k := signtest.ECKey(t)
	key := signtest.WriteCosignKey(t, dir, "cosign.key", k, signPassword)
	plain := signtest.WritePEM(t, dir, "plain.pem", "PRIVATE KEY", signtest.PKCS8(t, k))
	keyBytes, _ := os.ReadFile(key)
	plainBytes, _ := os.ReadFile(plain)
	secrets := []string{signPassword, string(keyBytes[40:80]), string(plainBytes[40:80]), base64.StdEncoding.EncodeToString(signtest.PKCS8(t, k))[10:50]}
	plan := signedPlan(t, l, reg.Host+"/app")
	for _, c := range []struct {
		name, want string
		env        map[string]string
		flags      []string
	}{
		{"wrong password", "signing key " + key + ": cannot decrypt it: wrong password", map[string]string{"COSIGN_PASSWORD": signPassword + "x"}, []string{"--sign-key", key}},
		{"password variable unset", "it is encrypted and no password is set", map[string]string{"COSIGN_PASSWORD": signPassword}, []string{"--sign-key", key, "--sign-key-password-env", "NO_SUCH_VAR"}},
		{"key and signer", "are both given: choose one", map[string]string{"WHARF_SIGNER": "/bin/false"}, []string{"--sign-key", plain}},
		{"signed", "", map[string]string{"COSIGN_PASSWORD": signPassword}, []string{"--sign-key", key}},
		{"plain key from env", "", map[string]string{"WHARF_SIGN_KEY": plain}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			stdout, stderr, err := runPushStreams(t, noRC, append([]string{"--plan", plan}, c.flags...)...)
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Errorf("got %v, want %q", err, c.want)
			}
			assertUnsaid(t, c.name, fmt.Sprint(err)+stdout+stderr, secrets...)
		})
	}
	assertNoSecretIn(t, filepath.Dir(plan), secrets)
}

// assertNoSecretIn fails if a file under dir holds a secret.
func assertNoSecretIn(t *testing.T, dir string, secrets []string) {
	t.Helper()
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			assertUnsaid(t, p, string(b), secrets...)
		}
		return nil
	})
}

// Each mistake on verify's command line says what is wrong.
func TestVerifyFlagErrors(t *testing.T) {
	noCredentials(t)
	dir := t.TempDir()
	pub := signtest.WritePublicKey(t, dir, "cosign.pub", signtest.ECKey(t))
	l := newPushLayout(t)
	reg := registrytest.New(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "name the images to verify: --plan PLAN or IMAGE@sha256:DIGEST"},
		{[]string{"--plan", l.plan}, "--key PUBLIC_KEY is required"},
		{[]string{"--plan", l.plan, "--key", filepath.Join(dir, "nope.pub")}, "public key: open " + filepath.Join(dir, "nope.pub")},
		{[]string{"--plan", l.plan, "--key", pub, "--attestation", "sbom"}, `--attestation "sbom": want spdxjson, cyclonedx, slsaprovenance1 or a predicate type URI`},
		{[]string{"--plan", l.plan, "--key", pub, "--signatures", "both"}, `--signatures "both": want auto, referrers or tag`},
		{[]string{"--plan", l.plan, "--plan", l.plan, "--key", pub, "--repository", "r.example/x"}, "--repository names one plan's repository; 2 plans given"},
		{[]string{"--plan", l.plan, "--key", pub}, "//test:push has no repository: set `repository` on the rule or give --repository HOST/NAME"},
		{[]string{"--key", pub, reg.Host + "/app:latest"}, `"` + reg.Host + `/app:latest": want REPOSITORY@sha256:...`},
		{[]string{"--key", pub, reg.Host + "/app@" + l.digest}, reg.Host + "/app@" + l.digest + ": GET http://" + reg.Host + "/v2/app/manifests/" + l.digest + ": NAME_UNKNOWN"},
	} {
		_, err := runVerify(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("verify %q: got %v\nwant %q", c.args, err, c.want)
		}
	}
}

// Given a plan, verify requires the plan's own statements on the digests they name, and
// relative key paths are taken from where `bazel run` was started.
func TestVerifyRequiresThePlansAttestations(t *testing.T) {
	noCredentials(t)
	l := newPushLayout(t)
	reg := registrytest.New(t)
	dir := t.TempDir()
	k := signtest.ECKey(t)
	signtest.WritePEM(t, dir, "plain.pem", "PRIVATE KEY", signtest.PKCS8(t, k))
	signtest.WritePublicKey(t, dir, "cosign.pub", k)
	t.Setenv("BUILD_WORKING_DIRECTORY", dir)
	out, err := runPush(t, "--plan", l.withLines(t, "--repository="+reg.Host+"/app"), "--sign-key", "plain.pem")
	if err != nil {
		t.Fatal(err)
	}
	_, err = runVerify(t, "--plan", signedPlan(t, l, reg.Host+"/app"), "--key", "cosign.pub")
	assertSaid(t, "verify", fmt.Sprint(err), "verify: 1 of 3 images failed with key cosign.pub",
		out+": no attestation of type https://spdx.dev/Document (looked in tag sha256-",
		out+": no attestation of type https://slsa.dev/provenance/v1 (looked in tag sha256-")
}

// Several plans (oci_push_all, or oci_push with repositories): every image is signed in
// every repository it is pushed to, each repository's scheme detected on its own.
func TestPushAllSignsEveryRepository(t *testing.T) {
	noCredentials(t)
	l := newPushLayout(t)
	tagReg, refReg := registrytest.New(t), registrytest.New(t, ggcrregistry.WithReferrersSupport(true))
	dir := t.TempDir()
	k := signtest.ECKey(t)
	t.Setenv("WHARF_SIGN_KEY", signtest.WritePEM(t, dir, "k.pem", "PRIVATE KEY", signtest.PKCS8(t, k)))
	pub := signtest.WritePublicKey(t, dir, "k.pub", k)
	plans := []string{signedPlan(t, l, tagReg.Host+"/a"), signedPlan(t, l, refReg.Host+"/b"), signedPlan(t, l, refReg.Host+"/c")}
	out, err := runPush(t, "--plan", plans[0], "--plan", plans[1], "--plan", plans[2])
	if err != nil {
		t.Fatal(err)
	}
	for i, scheme := range []string{"tag", "referrers", "referrers"} {
		got, err := runVerify(t, "--plan", plans[i], "--key", pub, "--signatures", scheme)
		if err != nil || strings.Count(got, "verified ") != 3 {
			t.Errorf("%s (%s): %v\n%s\npush printed %s", plans[i], scheme, err, got, out)
		}
	}
	// Under the tag scheme nothing is a referrer, and under referrers the signature has no tag.
	if _, err := runVerify(t, "--plan", plans[0], "--key", pub, "--signatures", "referrers"); err == nil {
		t.Error("the tag registry's signatures were found as referrers")
	}
	if _, err := runVerify(t, "--plan", plans[1], "--key", pub, "--signatures", "tag"); err == nil || !strings.Contains(err.Error(), "no signature (looked in tag sha256-") {
		t.Errorf("the referrers registry's signature under a tag: %v", err)
	}
}

// A signer that fails after the image is pushed fails the push, naming the image, the
// signer and what it said; the image stays pushed.
func TestPushSignerFails(t *testing.T) {
	noCredentials(t)
	l := newPushLayout(t)
	reg := registrytest.New(t)
	signer := filepath.Join(t.TempDir(), "kms-sign")
	os.WriteFile(signer, []byte("#!/bin/sh\necho 'kms: key projects/p/keys/k is disabled' >&2\nexit 3\n"), 0o755)
	_, err := runPush(t, "--plan", signedPlan(t, l, reg.Host+"/app"), "--signer", signer)
	ref := reg.Host + "/app@" + l.digest
	// The index's manifests are signed first, as they are pushed.
	first := reg.Host + "/app@" + l.manifests[0]
	assertSaid(t, "push", fmt.Sprint(err), "pushing //test:push ("+ref+"): pushed, but signing failed: signer "+signer+", signing "+first+": exit status 3: kms: key projects/p/keys/k is disabled")
	if !reg.HasManifest("app", l.digest) {
		t.Error("the index is not in the registry")
	}
}

// A plan's statement that is no in-toto statement fails the push before it uploads,
// naming the plan line and the file; a registry refusing the signature's manifest fails
// the push after the image is in, naming the signature and the tag.
func TestPushSigningRefused(t *testing.T) {
	noCredentials(t)
	l := newPushLayout(t)
	reg := registrytest.New(t)
	dir := t.TempDir()
	t.Setenv("WHARF_SIGN_KEY", signtest.WritePEM(t, dir, "k.pem", "PRIVATE KEY", signtest.PKCS8(t, signtest.ECKey(t))))
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[]}`), 0o644)
	_, err := runPush(t, "--plan", l.withLines(t, "--attestation="+bad), "--repository", reg.Host+"/app")
	assertSaid(t, "push", fmt.Sprint(err), ": --attestation: "+bad+": no predicateType")
	if reg.HasManifest("app", l.digest) {
		t.Error("the index was pushed")
	}
	reg.Faults(func(u registrytest.Upload) registrytest.Fault {
		if u.Kind == "manifest" && strings.HasSuffix(u.Ref, ".sig") {
			return registrytest.Denied
		}
		return registrytest.None
	})
	_, err = runPush(t, "--plan", l.plan, "--repository", reg.Host+"/app", "--signatures", "tag")
	first := reg.Host + "/app@" + l.manifests[0]
	assertSaid(t, "push", fmt.Sprint(err), "pushed, but signing failed: signature of "+first+" (tag): putting the sig manifest "+reg.Host+"/app:sha256-"+strings.TrimPrefix(l.manifests[0], "sha256:")+".sig: ", "DENIED")
}

// assertReferrers fails unless ref has want referrers of each artifact type: one signature,
// and the attestations of one push in one manifest.
func assertReferrers(t *testing.T, ref string, want map[string]int) {
	t.Helper()
	d, err := name.NewDigest(ref)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Referrers(d)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	got := map[string]int{}
	for _, m := range im.Manifests {
		got[m.ArtifactType]++
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("referrers of %s by artifact type: %v, want %v", ref, got, want)
	}
}
