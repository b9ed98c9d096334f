//go:build e2e

package e2e

import (
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPullVerified pushes the example image to a local registry in three repositories, signs
// one with key A and one with key B using the real cosign (its tag scheme: this registry has
// no referrers API), and pulls each with oci.pull(verify = key A) through an https front
// (verify needs https; Bazel's JVM trusts the front's certificate through a trust store):
// the signed one builds, the unsigned one and the one signed by B fail to fetch with
// messages naming the image, and --@rules_wharf//oci/settings:require_verified_base refuses
// an image pulled without verify.
func TestPullVerified(t *testing.T) {
	root := repoRoot(t)
	bazel := filepath.Join(root, "tools", "bazel")
	crane, cosign, keytool := tool(t, "crane"), tool(t, "cosign"), tool(t, "keytool")

	addr := startRegistry(t)
	pushed := strings.TrimSpace(run(t, root, nil, bazel, "run", pushTarget, "--", "--repository", addr+"/wharf/signed"))
	digest := pushed[strings.LastIndex(pushed, "@")+1:]
	for _, repo := range []string{"unsigned", "otherkey"} {
		run(t, root, nil, crane, "copy", pushed, addr+"/wharf/"+repo)
	}
	front := httpsFront(t, addr)
	host := strings.TrimPrefix(front.URL, "https://")

	ws := filepath.Join(cacheDir(), "e2e-pull-verify")
	os.RemoveAll(ws)
	write := writer(t, ws)
	keys := map[string]string{}
	for _, k := range []string{"a", "b"} {
		dir := filepath.Join(ws, "keys", k)
		write("keys/"+k+"/.keep", "")
		run(t, dir, []string{"COSIGN_PASSWORD=e2e"}, cosign, "generate-key-pair")
		keys[k] = filepath.Join(dir, "cosign.key")
	}
	sign := func(repo, key string) {
		run(t, ws, []string{"COSIGN_PASSWORD=e2e"}, cosign, "sign", "--yes", "--key", key, "--tlog-upload=false", "--allow-insecure-registry", host+"/wharf/"+repo+"@"+digest)
	}
	sign("signed", keys["a"])
	sign("otherkey", keys["b"])
	// The oracle agrees on what is signed by whom.
	run(t, ws, nil, cosign, "verify", "--key", filepath.Join(ws, "keys/a/cosign.pub"), "--insecure-ignore-tlog", "--allow-insecure-registry", host+"/wharf/signed@"+digest)

	write("MODULE.bazel", consumerModule("consumer", root)+fmt.Sprintf(`
oci = use_extension("@rules_wharf//oci:extensions.bzl", "oci")
oci.pull(name = "signed", image = "https://%[1]s/wharf/signed", digest = %[2]q, verify = ["//keys/a:cosign.pub"])
oci.pull(name = "unsigned", image = "https://%[1]s/wharf/unsigned", digest = %[2]q, verify = ["//keys/a:cosign.pub"])
oci.pull(name = "otherkey", image = "https://%[1]s/wharf/otherkey", digest = %[2]q, verify = ["//keys/a:cosign.pub"])
oci.pull(name = "signed_unverified", image = "https://%[1]s/wharf/signed", digest = %[2]q)
use_repo(oci, "otherkey", "signed", "signed_unverified", "unsigned")
`, host, digest))
	write("keys/a/BUILD.bazel", `exports_files(["cosign.pub"])`+"\n")
	write("BUILD.bazel", `load("@rules_wharf//oci:defs.bzl", "oci_image")

[oci_image(name = "on_" + n, base = "@" + n) for n in ["signed", "unsigned", "otherkey", "signed_unverified"]]
`)
	store := trustStore(t, keytool, ws, front.Certificate().Raw)
	write(".bazelrc", fmt.Sprintf("startup --host_jvm_args=-Djavax.net.ssl.trustStore=%s --host_jvm_args=-Djavax.net.ssl.trustStorePassword=changeit --host_jvm_args=-Djavax.net.ssl.trustStoreType=PKCS12\ncommon --lockfile_mode=off\n", store))

	env := []string{"WHARF_BIND=" + root}
	defer run(t, ws, env, bazel, "shutdown")
	run(t, ws, env, bazel, "build", "//:on_signed")
	image := func(repo string) string { return host + "/wharf/" + repo + "@" + digest }
	logFailure(t, runFails(t, ws, env, []string{"oci_pull unsigned: image " + image("unsigned") + ": verify: no cosign signature for " + digest, "tag sha256-" + strings.TrimPrefix(digest, "sha256:") + ".sig: none"}, bazel, "build", "//:on_unsigned"))
	logFailure(t, runFails(t, ws, env, []string{"oci_pull otherkey: image " + image("otherkey") + ": verify: no signature of " + digest + " verifies", "signed by another key (none of @@//keys/a:cosign.pub verifies it)"}, bazel, "build", "//:on_otherkey"))
	require := "--@rules_wharf//oci/settings:require_verified_base"
	logFailure(t, runFails(t, ws, env, []string{"image " + image("signed") + " was pulled without verify, and " + require + " is set"}, bazel, "build", require, "//:on_signed_unverified"))
	run(t, ws, env, bazel, "build", require, "//:on_signed")
	logFetchCost(t, ws, env, bazel)
}

// logFailure shows the message a user reads.
func logFailure(t *testing.T, out string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "Error in fail") {
			t.Log(strings.TrimSpace(l))
		}
	}
}

// httpsFront serves the plain-http registry at addr over https (httptest's certificate for
// 127.0.0.1), telling it the scheme and host clients used so its upload URLs point back here.
func httpsFront(t *testing.T, addr string) *httptest.Server {
	t.Helper()
	target := &url.URL{Scheme: "http", Host: addr}
	front := httptest.NewTLSServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.SetXForwarded()
		r.Out.Host = r.In.Host
	}})
	t.Cleanup(front.Close)
	return front
}

// trustStore writes a PKCS#12 trust store holding cert for Bazel's JVM, with keytool.
func trustStore(t *testing.T, keytool, ws string, cert []byte) string {
	t.Helper()
	certPath, store := filepath.Join(ws, "front.pem"), filepath.Join(ws, "truststore.p12")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, ws, nil, keytool, "-importcert", "-noprompt", "-alias", "wharf-e2e", "-file", certPath, "-keystore", store, "-storetype", "PKCS12", "-storepass", "changeit")
	return store
}

// logFetchCost refetches the signed image with and without verify (blobs from the repository
// cache) and logs the difference: the signature search and check per base.
func logFetchCost(t *testing.T, ws string, env []string, bazel string) {
	t.Helper()
	var with, without time.Duration
	const rounds = 3
	for i := 0; i < rounds; i++ {
		for _, c := range []struct {
			repo string
			sum  *time.Duration
		}{{"signed", &with}, {"signed_unverified", &without}} {
			start := time.Now()
			run(t, ws, env, bazel, "fetch", "--force", "--repo=@"+c.repo)
			*c.sum += time.Since(start)
		}
	}
	t.Logf("refetch with verify %v, without %v (mean of %d): verify costs %v per base", with/rounds, without/rounds, rounds, (with-without)/rounds)
}
