package push

import (
	"context"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/rules-wharf/rules_wharf/tools/internal/registrytest"
	"github.com/rules-wharf/rules_wharf/tools/internal/sign/signtest"
)

// oci_push_all's <name>.verify: `wharf verify` over several plans checks every image: the
// signed ones are printed as verified, the unsigned one is named, and it fails.
func TestVerifyEveryPlan(t *testing.T) {
	noCredentials(t)
	reg := registrytest.New(t)
	dir := t.TempDir()
	k := signtest.ECKey(t)
	key := signtest.WritePEM(t, dir, "k.pem", "PRIVATE KEY", signtest.PKCS8(t, k))
	pub := signtest.WritePublicKey(t, dir, "k.pub", k)
	var plans, refs []string
	for _, n := range []string{"a", "unsigned", "c"} {
		extra := []string{"--repository=" + reg.Host + "/" + n}
		t.Setenv(SignKeyEnv, "") // a key given signs every image pushed
		if n != "unsigned" {
			extra = append(extra, "--sign=required")
			t.Setenv(SignKeyEnv, key)
		}
		b := newBuilt(t, randomImage(t, 1), extra...)
		b.putLocal(t, b.layers[0])
		if err := runConfig(t, &Config{}, io.Discard, "--no-bazelrc", "--progress=never", "--execroot", b.dir, "--plan", b.plan); err != nil {
			t.Fatalf("push %s: %v", n, err)
		}
		plans = append(plans, "--plan", b.plan)
		refs = append(refs, reg.Host+"/"+n+"@"+b.digest.String())
	}
	var out strings.Builder
	err := runConfig(t, &VerifyConfig{}, &out, append(plans, "--key", pub, "--signatures", "tag")...)
	if err == nil {
		t.Fatal("verify passed with an unsigned image")
	}
	t.Logf("user sees:\n%s%v", out.String(), err)
	want := "verified " + refs[0] + ": signature\nverified " + refs[2] + ": signature\n"
	if out.String() != want {
		t.Errorf("stdout %q, want %q", out.String(), want)
	}
	assertHas(t, err.Error(), "verify: 1 of 3 images failed with key "+pub, refs[1]+": no signature (looked in tag sha256-")
	for _, r := range []string{refs[0], refs[2]} {
		if strings.Contains(err.Error(), r) {
			t.Errorf("the error names the verified %s: %v", r, err)
		}
	}
}

// runConfig parses args into c's flags and runs it, its stdout to stdout (a push's stderr
// discarded).
func runConfig(t *testing.T, c interface{ RegisterFlags(*flag.FlagSet) }, stdout io.Writer, args ...string) error {
	t.Helper()
	fs := flag.NewFlagSet("wharf", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	switch c := c.(type) {
	case *Config:
		return c.Run(context.Background(), stdout, io.Discard)
	case *VerifyConfig:
		return c.Run(context.Background(), stdout)
	}
	t.Fatalf("unknown config %T", c)
	return nil
}
