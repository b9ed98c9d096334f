package apkfile

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
)

// maxExpanded bounds a data member's uncompressed size (zip bomb guard); the largest
// real-world APKs are a few GiB uncompressed.
const maxExpanded = 64 << 30

// Locked is what the lock gives about one package, and the files its bytes are in (as
// apk-verify --packages lists them).
type Locked struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Arch    string `json:"arch"`
	// Parts hold the package's bytes in order: the whole .apk, or its members.
	Parts           []string `json:"parts"`
	ControlChecksum string   `json:"control_checksum"` // sha1-… (or sha256-…)
	DataChecksum    string   `json:"data_checksum"`    // sha256-…
}

// Label names the package in messages.
func (a *Locked) Label() string { return fmt.Sprintf("%s-%s (%s)", a.Name, a.Version, a.Arch) }

// open returns the concatenation of the parts: the whole .apk, or its members in order.
func (a *Locked) open() (io.Reader, func(), error) {
	if len(a.Parts) == 0 {
		return nil, nil, fmt.Errorf("package %s: no --part given", a.Label())
	}
	var rs []io.Reader
	var fs []*os.File
	closeAll := func() {
		for _, f := range fs {
			f.Close()
		}
	}
	for _, p := range a.Parts {
		f, err := os.Open(p)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("package %s: %w", a.Label(), err)
		}
		fs = append(fs, f)
		rs = append(rs, f)
	}
	return io.MultiReader(rs...), closeAll, nil
}

// dataPartStartsAt checks that the parts before the last one hold exactly the head
// (signature and control members), so that the last part is the data member alone.
func (a *Locked) dataPartStartsAt(offset int64) error {
	if len(a.Parts) < 2 {
		return fmt.Errorf("package %s: without --blob the data member must be a part of its own", a.Label())
	}
	var head int64
	for _, p := range a.Parts[:len(a.Parts)-1] {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("package %s: %w", a.Label(), err)
		}
		head += st.Size()
	}
	if head != offset {
		return fmt.Errorf("package %s: the head parts hold %d bytes but the signature and control members %d: %s is not exactly the data member",
			a.Label(), head, offset, a.Parts[len(a.Parts)-1])
	}
	return nil
}

// head reads and checks the control member against the lock.
func (a *Locked) head(r io.Reader) (*Head, *Rest, error) {
	h, rest, err := ReadHead(r)
	if err != nil {
		return nil, nil, fmt.Errorf("package %s: %w", a.Label(), err)
	}
	if a.ControlChecksum != "" {
		want, err := ParseSRI(a.ControlChecksum)
		if err != nil {
			return nil, nil, fmt.Errorf("package %s: lock control checksum: %w", a.Label(), err)
		}
		if !want.Check(h.Control) {
			// Both in the lock's form (sha1-<base64>), so they compare by eye.
			got := SRI{Algo: "sha1", Sum: h.ControlSHA1()}
			if want.Algo == "sha256" {
				sum := sha256.Sum256(h.Control)
				got = SRI{Algo: "sha256", Sum: sum[:]}
			}
			return nil, nil, fmt.Errorf("package %s: control member checksum mismatch: lock has %s, file has %s (tampered or wrong file)",
				a.Label(), want, got)
		}
	}
	if h.PkgInfo.Name != a.Name || h.PkgInfo.Version != a.Version {
		return nil, nil, fmt.Errorf("package %s: .PKGINFO says %s-%s", a.Label(), h.PkgInfo.Name, h.PkgInfo.Version)
	}
	if h.PkgInfo.Arch != "" && h.PkgInfo.Arch != "noarch" && h.PkgInfo.Arch != a.Arch {
		return nil, nil, fmt.Errorf("package %s: .PKGINFO arch is %s", a.Label(), h.PkgInfo.Arch)
	}
	return h, rest, nil
}

// Extract reads the package, checks it against the lock and its own .PKGINFO datahash, and
// copies its data member to blob; with blob nil the last part must be exactly the data
// member (which then is the blob) and nothing is copied. It returns the package's facts
// and the data member's digests.
func (a *Locked) Extract(blob io.Writer) (*Facts, *DataResult, error) {
	r, closeAll, err := a.open()
	if err != nil {
		return nil, nil, err
	}
	defer closeAll()
	h, rest, err := a.head(r)
	if err != nil {
		return nil, nil, err
	}
	if blob == nil {
		if err := a.dataPartStartsAt(h.DataOffset()); err != nil {
			return nil, nil, err
		}
	}
	// The digests below cover every byte after the head, so with the check above they
	// describe exactly the last part's bytes.
	data, err := rest.CopyData(blob, maxExpanded)
	if err != nil {
		return nil, nil, fmt.Errorf("package %s: %w", a.Label(), err)
	}
	if h.PkgInfo.DataHash != "" {
		want, err := HexDataHash(h.PkgInfo.DataHash)
		if err != nil {
			return nil, nil, fmt.Errorf("package %s: .PKGINFO: %w", a.Label(), err)
		}
		if !bytes.Equal(want, data.SHA256) {
			return nil, nil, fmt.Errorf("package %s: data member sha256 %x does not match .PKGINFO datahash %s (tampered data)",
				a.Label(), data.SHA256, h.PkgInfo.DataHash)
		}
	}
	if a.DataChecksum != "" {
		ok, err := a.lockDataIs(data.SHA256)
		if err != nil {
			return nil, nil, fmt.Errorf("package %s: %w", a.Label(), err)
		}
		if !ok {
			// Both in the lock's form (sha256-<base64>), so they compare by eye.
			return nil, nil, fmt.Errorf("package %s: data member checksum mismatch: lock has %s, file has %s (tampered or wrong file)",
				a.Label(), a.DataChecksum, SRI{Algo: "sha256", Sum: data.SHA256})
		}
	}
	return FactsOf(h, data), data, nil
}
