package sign

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain makes the test binary an external signer when $WHARF_TEST_SIGNER names a mode:
// ok (signs with the PEM key $WHARF_TEST_SIGNER_KEY), fail, hang, garbage, liar (answers
// with another key than it signed with).
func TestMain(m *testing.M) {
	if mode := os.Getenv("WHARF_TEST_SIGNER"); mode != "" {
		os.Exit(testSigner(mode))
	}
	os.Exit(m.Run())
}

func testSigner(mode string) int {
	var req SignerRequest
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil || os.Args[1] != "sign" {
		fmt.Fprintln(os.Stderr, "bad request", err)
		return 2
	}
	switch mode {
	case "fail":
		fmt.Fprintln(os.Stderr, "kms: permission denied for key projects/p/keys/k")
		return 1
	case "hang":
		// A child holding stdout open, as a wrapper script's would.
		c := exec.Command("sleep", "60")
		c.Stdout = os.Stdout
		c.Start()
		os.WriteFile(os.Getenv("WHARF_TEST_SIGNER_PID"), []byte(strconv.Itoa(c.Process.Pid)), 0o644)
		time.Sleep(time.Minute)
		return 0
	case "garbage":
		fmt.Println("Signature: 3045022100...")
		return 0
	}
	k, err := LoadKey(os.Getenv("WHARF_TEST_SIGNER_KEY"), noPassword)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sig, _ := rawSign(k, req.Payload)
	key := k.Public()
	if mode == "liar" {
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		key = other.Public()
	}
	pub, _ := MarshalPublicKey(key)
	json.NewEncoder(os.Stdout).Encode(SignerResponse{Signature: sig, PublicKey: string(pub)})
	return 0
}

func programSigner(t *testing.T, mode string) *ProgramSigner {
	t.Setenv("WHARF_TEST_SIGNER", mode)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &ProgramSigner{Program: self}
}

// The protocol's signer signs both an image and an attestation that then verify.
func TestProgramSigner(t *testing.T) {
	ctx := context.Background()
	k := ecKey(t)
	t.Setenv("WHARF_TEST_SIGNER_KEY", writePEM(t, t.TempDir(), "k.pem", "PRIVATE KEY", pkcs8(t, k)))
	_, repo, top, reg := testImage(t, true, false)
	pub := &Publisher{Signer: programSigner(t, "ok"), Scheme: Auto, Registry: reg}
	if err := pub.SignImage(ctx, repo, top); err != nil {
		t.Fatal(err)
	}
	if err := pub.Attest(ctx, repo, top, statement(spdxType, top.Digest)); err != nil {
		t.Fatal(err)
	}
	v := verifier(reg, k, "k.pub", Auto)
	if err := v.CheckSignature(ctx, repo, top.Digest); err != nil {
		t.Error(err)
	}
	if err := v.CheckAttestation(ctx, repo, top.Digest, spdxType); err != nil {
		t.Error(err)
	}
}

// A signer that fails, prints garbage or answers with a key that does not check its
// signature: the message names the signer and the image and never the payload.
func TestProgramSignerErrors(t *testing.T) {
	t.Setenv("WHARF_TEST_SIGNER_KEY", writePEM(t, t.TempDir(), "k.pem", "PRIVATE KEY", pkcs8(t, ecKey(t))))
	for mode, want := range map[string]string{
		"fail":    "exit status 1: kms: permission denied for key projects/p/keys/k",
		"garbage": "its answer is not the signer protocol's JSON (docs/signing.md; its stdout is not shown)",
		"liar":    "its answer's signature does not verify with the key it names: the signature does not verify",
	} {
		p := programSigner(t, mode)
		_, err := p.Sign(context.Background(), "reg.example/app@sha256:0123", []byte("payload-SECRETISH"), SimpleSigningMediaType)
		prefix := "signer " + p.Program + ", signing reg.example/app@sha256:0123: "
		if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v\nwant %s...%s", mode, err, prefix, want)
		}
		if err != nil && strings.Contains(err.Error(), "SECRETISH") {
			t.Errorf("%s: the message quotes the payload: %v", mode, err)
		}
	}
}

// A signer that hangs is stopped at the limit with its children, and not run again.
func TestProgramSignerHangs(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	t.Setenv("WHARF_TEST_SIGNER_PID", pidFile)
	t.Setenv(SignerTimeoutEnv, "1")
	p := programSigner(t, "hang")
	start := time.Now()
	_, err := p.Sign(context.Background(), "reg.example/app@sha256:0123", []byte("x"), SimpleSigningMediaType)
	want := "signer " + p.Program + ", signing reg.example/app@sha256:0123: no answer within 1s: stopped, and not asked again in this run ($WHARF_SIGNER_TIMEOUT sets the limit in seconds)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
	b, _ := os.ReadFile(pidFile)
	if pid, _ := strconv.Atoi(string(b)); pid > 0 {
		time.Sleep(100 * time.Millisecond)
		if syscall.Kill(pid, 0) == nil && !zombie(pid) {
			t.Errorf("the signer's child %d outlived it", pid)
		}
	}
	if _, err := p.Sign(context.Background(), "reg.example/app@sha256:0123", []byte("x"), SimpleSigningMediaType); err == nil || !strings.Contains(err.Error(), "not asked again") {
		t.Errorf("second ask: %v", err)
	}
}

// zombie says whether pid has exited but is not reaped yet.
func zombie(pid int) bool {
	f, err := os.Open(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z")
}

func TestSignerTimeoutEnv(t *testing.T) {
	t.Setenv(SignerTimeoutEnv, "soon")
	_, err := (&ProgramSigner{Program: "/bin/true"}).Sign(context.Background(), "img", nil, "")
	if err == nil || !strings.Contains(err.Error(), `$WHARF_SIGNER_TIMEOUT is "soon": want a whole number of seconds above 0 (default 60)`) {
		t.Errorf("got %v", err)
	}
}
