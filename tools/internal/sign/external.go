package sign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rules-wharf/rules_wharf/tools/internal/credentials"
)

// SignerTimeoutEnv names the variable giving an external signer's time limit in whole
// seconds (default DefaultSignerTimeout).
const SignerTimeoutEnv = "WHARF_SIGNER_TIMEOUT"

// DefaultSignerTimeout bounds one run of an external signer.
const DefaultSignerTimeout = 60 * time.Second

// SignerRequest is what an external signer reads on stdin (docs/signing.md).
type SignerRequest struct {
	Version int `json:"version"`
	// Image is the digest reference being signed, for the signer's logs and policy.
	Image string `json:"image"`
	// PayloadType says what Payload is: the simple-signing media type for a signature,
	// application/vnd.in-toto+json for an attestation (Payload is then DSSE's PAE).
	PayloadType string `json:"payloadType"`
	// Payload is the exact bytes to sign.
	Payload []byte `json:"payload"`
}

// SignerResponse is what an external signer writes on stdout.
type SignerResponse struct {
	Signature []byte `json:"signature"`
	// PublicKey (PEM) or Certificate (PEM, with Chain) checks Signature.
	PublicKey   string `json:"publicKey,omitempty"`
	Certificate string `json:"certificate,omitempty"`
	Chain       string `json:"chain,omitempty"`
}

// ProgramSigner runs an external signer program once per payload: `PROGRAM sign`, the
// request on stdin, the response on stdout, in its own process group, killed with its
// children after the time limit.
type ProgramSigner struct {
	Program string
}

// Name is the program.
func (p *ProgramSigner) Name() string { return "signer " + p.Program }

// Sign asks the program and checks its answer's signature against the key it names.
func (p *ProgramSigner) Sign(ctx context.Context, image string, payload []byte, payloadType string) (Signature, error) {
	sig, err := p.sign(ctx, image, payload, payloadType)
	if err != nil {
		return Signature{}, fmt.Errorf("%s, signing %s: %w", p.Name(), image, err)
	}
	return sig, nil
}

func (p *ProgramSigner) sign(ctx context.Context, image string, payload []byte, payloadType string) (Signature, error) {
	limit, err := signerTimeout()
	if err != nil {
		return Signature{}, err
	}
	req, err := json.Marshal(SignerRequest{Version: 1, Image: image, PayloadType: payloadType, Payload: payload})
	if err != nil {
		return Signature{}, err
	}
	out, err := credentials.RunLimited(ctx, "", []string{p.Program, "sign"}, req, limit, SignerTimeoutEnv)
	if err != nil {
		return Signature{}, err
	}
	var resp SignerResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return Signature{}, errors.New("its answer is not the signer protocol's JSON (docs/signing.md; its stdout is not shown)")
	}
	return resp.check(payload)
}

// check makes the response a Signature whose key verifies it over payload.
func (r SignerResponse) check(payload []byte) (Signature, error) {
	if len(r.Signature) == 0 {
		return Signature{}, errors.New(`its answer has no "signature"`)
	}
	keyPEM := r.PublicKey
	if keyPEM == "" {
		keyPEM = r.Certificate
	}
	if keyPEM == "" {
		return Signature{}, errors.New(`its answer has neither "publicKey" nor "certificate": nothing to check the signature with`)
	}
	key, err := ParsePublicKey([]byte(keyPEM))
	if err != nil {
		return Signature{}, fmt.Errorf("its answer's key: %w", err)
	}
	if err := rawVerify(key, payload, r.Signature); err != nil {
		return Signature{}, fmt.Errorf("its answer's signature does not verify with the key it names: %w", err)
	}
	return Signature{Sig: r.Signature, PublicKey: key, Certificate: []byte(r.Certificate), Chain: []byte(r.Chain)}, nil
}

func signerTimeout() (time.Duration, error) {
	return credentials.EnvSeconds(SignerTimeoutEnv, DefaultSignerTimeout)
}
