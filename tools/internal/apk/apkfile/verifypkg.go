package apkfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
)

// LoadKeyring reads PEM public key files; a file's base name is its key's name.
func LoadKeyring(paths []string) (Keyring, error) {
	ring := Keyring{}
	for _, k := range paths {
		b, err := os.ReadFile(k)
		if err != nil {
			return nil, err
		}
		if err := ring.AddPEM(k, b); err != nil {
			return nil, err
		}
	}
	return ring, nil
}

// VerifyAll verifies each package (Verify); with requireSignatures, a package trusted only
// through the lock fails too, all of them named at once. lock names the lock in errors.
// cache, when not nil, answers for the packages it saw verify before.
func VerifyAll(ring Keyring, pkgs []Locked, requireSignatures bool, lock string, cache *VerifyCache) ([]VerifyRecord, error) {
	var ringKey []byte
	if cache != nil {
		ringKey = ringSum(ring)
	}
	inLock := ""
	if lock != "" {
		inLock = " (lock " + lock + ")"
	}
	recs := []VerifyRecord{}
	var unsigned []string
	for i := range pkgs {
		rec, err := cache.verify(ring, ringKey, &pkgs[i])
		if err != nil {
			return nil, fmt.Errorf("%w%s", err, inLock)
		}
		if requireSignatures && rec.Trust != TrustSignature {
			unsigned = append(unsigned, pkgs[i].Label())
		}
		recs = append(recs, rec)
	}
	if len(unsigned) > 0 {
		return nil, fmt.Errorf("require_signatures is set%s, but %d of %d packages are not signed: %s",
			inLock, len(unsigned), len(pkgs), strings.Join(unsigned, ", "))
	}
	return recs, nil
}

// Trust says what vouches for a verified package.
const (
	// TrustSignature: an RSA signature over the control member by a key of the keyring.
	TrustSignature = "signature"
	// TrustLock: an unsigned package (Wolfi's, whose APKINDEX is signed instead) pinned by
	// the lock: the control member's sha1 is the lock's (copied by apko lock from the signed
	// index), its .PKGINFO datahash is the lock's data checksum, and apk-extract checks the
	// data member against both.
	TrustLock = "lock"
)

// VerifyRecord is what apk-verify writes for each package.
type VerifyRecord struct {
	Package  string `json:"package"`
	Version  string `json:"version"`
	Arch     string `json:"arch"`
	Control  string `json:"control"`
	Trust    string `json:"trust"`               // TrustSignature or TrustLock
	SignedBy string `json:"signed_by,omitempty"` // the key, with TrustSignature
	DataHash string `json:"datahash,omitempty"`  // pinned by the lock, with TrustLock
}

// Verify reads only a package's head: signature and control members. A signed package
// must verify against the keyring; an unsigned one is trusted only through the lock.
func (a *Locked) Verify(ring Keyring) (VerifyRecord, error) {
	r, closeAll, err := a.open()
	if err != nil {
		return VerifyRecord{}, err
	}
	defer closeAll()
	h, _, err := a.head(r)
	if err != nil {
		return VerifyRecord{}, err
	}
	rec := VerifyRecord{Package: a.Name, Version: a.Version, Arch: a.Arch, Control: SRI{Algo: "sha1", Sum: h.ControlSHA1()}.String()}
	if len(h.Signatures) > 0 {
		signer, err := ring.VerifySignature(h.Signatures, h.Control)
		if err != nil {
			return VerifyRecord{}, fmt.Errorf("package %s: %w", a.Label(), err)
		}
		rec.Trust, rec.SignedBy = TrustSignature, signer
		return rec, nil
	}
	if err := a.lockPins(h); err != nil {
		return VerifyRecord{}, fmt.Errorf("package %s: not signed, and %w", a.Label(), err)
	}
	rec.Trust, rec.DataHash = TrustLock, h.PkgInfo.DataHash
	return rec, nil
}

// lockPins checks the chain that stands in for a signature: the lock pins the control
// member (head has compared its sha1 already), whose .PKGINFO datahash pins the data member,
// which the lock pins too. apk-extract compares the data member with both.
func (a *Locked) lockPins(h *Head) error {
	if a.ControlChecksum == "" {
		return errors.New("the lock has no control checksum for it: nothing vouches for it")
	}
	if h.PkgInfo.DataHash == "" {
		return errors.New("its .PKGINFO has no datahash: nothing pins its data member")
	}
	sum, err := HexDataHash(h.PkgInfo.DataHash)
	if err != nil {
		return fmt.Errorf(".PKGINFO: %w", err)
	}
	if a.DataChecksum == "" {
		return errors.New("the lock has no data checksum for it: nothing but the control member pins its data")
	}
	ok, err := a.lockDataIs(sum)
	if err != nil {
		return err
	}
	if !ok {
		// The datahash as .PKGINFO has it (hex) and in the lock's form (sha256-<base64>).
		return fmt.Errorf("its .PKGINFO datahash %s (%s) is not the lock's data checksum %s",
			h.PkgInfo.DataHash, SRI{Algo: "sha256", Sum: sum}, a.DataChecksum)
	}
	return nil
}

// lockDataIs reports whether the lock's data checksum is the sha256 sum.
func (a *Locked) lockDataIs(sum []byte) (bool, error) {
	want, err := ParseSRI(a.DataChecksum)
	if err != nil {
		return false, fmt.Errorf("lock data checksum: %w", err)
	}
	return want.Algo == "sha256" && bytes.Equal(want.Sum, sum), nil
}
