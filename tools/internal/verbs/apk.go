package verbs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk"
	"github.com/rules-wharf/rules_wharf/tools/internal/atomicfile"
	"github.com/rules-wharf/rules_wharf/tools/internal/cli"
	"github.com/rules-wharf/rules_wharf/tools/internal/layer"
)

// maxExpanded bounds a data member's uncompressed size (zip bomb guard); the largest
// real-world APKs are a few GiB uncompressed.
const maxExpanded = 64 << 30

// apkFlags are the facts the lock gives about one package.
type apkFlags struct {
	name, version, arch string
	parts               cli.Strings
	controlChecksum     string
	dataChecksum        string
}

func (a *apkFlags) label() string { return fmt.Sprintf("%s-%s (%s)", a.name, a.version, a.arch) }

// open returns the concatenation of the parts: the whole .apk, or its members in order.
func (a *apkFlags) open() (io.Reader, func(), error) {
	if len(a.parts) == 0 {
		return nil, nil, fmt.Errorf("package %s: no --part given", a.label())
	}
	var rs []io.Reader
	var fs []*os.File
	closeAll := func() {
		for _, f := range fs {
			f.Close()
		}
	}
	for _, p := range a.parts {
		f, err := os.Open(p)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("package %s: %w", a.label(), err)
		}
		fs = append(fs, f)
		rs = append(rs, f)
	}
	return io.MultiReader(rs...), closeAll, nil
}

// dataPartStartsAt checks that the parts before the last one hold exactly the head
// (signature and control members), so that the last part is the data member alone.
func (a *apkFlags) dataPartStartsAt(offset int64) error {
	if len(a.parts) < 2 {
		return fmt.Errorf("package %s: without --blob the data member must be a part of its own", a.label())
	}
	var head int64
	for _, p := range a.parts[:len(a.parts)-1] {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("package %s: %w", a.label(), err)
		}
		head += st.Size()
	}
	if head != offset {
		return fmt.Errorf("package %s: the head parts hold %d bytes but the signature and control members %d: %s is not exactly the data member",
			a.label(), head, offset, a.parts[len(a.parts)-1])
	}
	return nil
}

// head reads and checks the control member against the lock.
func (a *apkFlags) head(r io.Reader) (*apk.Head, *apk.Rest, error) {
	h, rest, err := apk.ReadHead(r)
	if err != nil {
		return nil, nil, fmt.Errorf("package %s: %w", a.label(), err)
	}
	if a.controlChecksum != "" {
		want, err := apk.ParseSRI(a.controlChecksum)
		if err != nil {
			return nil, nil, fmt.Errorf("package %s: lock control checksum: %w", a.label(), err)
		}
		if !want.Check(h.Control) {
			// Both in the lock's form (sha1-<base64>), so they compare by eye.
			got := apk.SRI{Algo: "sha1", Sum: h.ControlSHA1()}
			if want.Algo == "sha256" {
				sum := sha256.Sum256(h.Control)
				got = apk.SRI{Algo: "sha256", Sum: sum[:]}
			}
			return nil, nil, fmt.Errorf("package %s: control member checksum mismatch: lock has %s, file has %s (tampered or wrong file)",
				a.label(), want, got)
		}
	}
	if h.PkgInfo.Name != a.name || h.PkgInfo.Version != a.version {
		return nil, nil, fmt.Errorf("package %s: .PKGINFO says %s-%s", a.label(), h.PkgInfo.Name, h.PkgInfo.Version)
	}
	if h.PkgInfo.Arch != "" && h.PkgInfo.Arch != "noarch" && h.PkgInfo.Arch != a.arch {
		return nil, nil, fmt.Errorf("package %s: .PKGINFO arch is %s", a.label(), h.PkgInfo.Arch)
	}
	return h, rest, nil
}

// Facts is what the build learns about a package; later actions (installed db, SBOM) read
// it instead of the package.
type Facts struct {
	PkgInfo     *apk.PkgInfo `json:"pkginfo"`
	Control     string       `json:"control"` // sha1 SRI of the control member
	Data        string       `json:"data"`    // sha256 SRI of the data member
	APKSize     int64        `json:"apk_size"`
	ControlSize int64        `json:"control_size"`
	Scripts     []apk.Script `json:"scripts,omitempty"`
	Files       []apk.Entry  `json:"files"`
	// OSRelease is the content of the package's os-release files (apk.OSReleasePaths).
	OSRelease map[string]string `json:"os_release,omitempty"`
}

// readFacts reads a facts file written by apk-extract.
func readFacts(path string) (*Facts, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := &Facts{}
	if err := json.Unmarshal(b, f); err != nil {
		return nil, fmt.Errorf("package facts %s: %w", path, err)
	}
	if f.PkgInfo == nil || f.PkgInfo.Name == "" {
		return nil, fmt.Errorf("package facts %s: no package", path)
	}
	return f, nil
}

// readInstalled reads the facts files of packages installed together for arch, in order.
func readInstalled(factsFiles []string, arch string) ([]*apk.Installed, error) {
	var pkgs []*apk.Installed
	for _, f := range factsFiles {
		facts, err := readFacts(f)
		if err != nil {
			return nil, err
		}
		p, err := facts.installed()
		if err != nil {
			return nil, err
		}
		if p.Info.Arch != "" && p.Info.Arch != "noarch" && p.Info.Arch != arch {
			return nil, fmt.Errorf("package %s-%s is for %s, not %s", p.Info.Name, p.Info.Version, p.Info.Arch, arch)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// installed converts facts to the installer's view.
func (f *Facts) installed() (*apk.Installed, error) {
	c, err := apk.ParseSRI(f.Control)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", f.PkgInfo.Name, err)
	}
	return &apk.Installed{Info: f.PkgInfo, ControlSHA1: c.Sum, APKSize: f.APKSize, Entries: f.Files, Scripts: f.Scripts}, nil
}

func apkExtract(args []string) error {
	var a apkFlags
	var blobOut, metaOut, factsOut string
	fs := newFlags("apk-extract")
	fs.StringVar(&a.name, "name", "", "package name (from the lock)")
	fs.StringVar(&a.version, "version", "", "package version (from the lock)")
	fs.StringVar(&a.arch, "arch", "", "package architecture (from the lock)")
	fs.Var(&a.parts, "part", "file holding the next bytes of the package (repeatable)")
	fs.StringVar(&a.controlChecksum, "control-checksum", "", "lock's control checksum (sha1-…)")
	fs.StringVar(&a.dataChecksum, "data-checksum", "", "lock's data checksum (sha256-…)")
	fs.StringVar(&blobOut, "blob", "", "output: the data member (the layer blob); without it the last --part must be exactly the data member, which then is the blob")
	fs.StringVar(&metaOut, "metadata", "", "output: layer metadata JSON")
	fs.StringVar(&factsOut, "facts", "", "output: package facts JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cli.Require("name", a.name, "version", a.version, "arch", a.arch, "metadata", metaOut, "facts", factsOut); err != nil {
		return err
	}
	r, closeAll, err := a.open()
	if err != nil {
		return err
	}
	defer closeAll()
	h, rest, err := a.head(r)
	if err != nil {
		return err
	}
	var outs atomicfile.Set
	defer outs.Abort()
	var blob io.Writer // nil: the last part is the blob; nothing is copied
	if blobOut != "" {
		f, err := outs.Create(blobOut)
		if err != nil {
			return err
		}
		blob = f
	} else if err := a.dataPartStartsAt(h.DataOffset()); err != nil {
		return err
	}
	// The digests below cover every byte after the head, so with the check above they
	// describe exactly the last part's bytes.
	data, err := rest.CopyData(blob, maxExpanded)
	if err != nil {
		return fmt.Errorf("package %s: %w", a.label(), err)
	}
	if h.PkgInfo.DataHash != "" {
		want, err := apk.HexDataHash(h.PkgInfo.DataHash)
		if err != nil {
			return fmt.Errorf("package %s: .PKGINFO: %w", a.label(), err)
		}
		if !bytes.Equal(want, data.SHA256) {
			return fmt.Errorf("package %s: data member sha256 %x does not match .PKGINFO datahash %s (tampered data)",
				a.label(), data.SHA256, h.PkgInfo.DataHash)
		}
	}
	if a.dataChecksum != "" {
		ok, err := a.lockDataIs(data.SHA256)
		if err != nil {
			return fmt.Errorf("package %s: %w", a.label(), err)
		}
		if !ok {
			// Both in the lock's form (sha256-<base64>), so they compare by eye.
			return fmt.Errorf("package %s: data member checksum mismatch: lock has %s, file has %s (tampered or wrong file)",
				a.label(), a.dataChecksum, apk.SRI{Algo: "sha256", Sum: data.SHA256})
		}
	}
	meta := &layer.Metadata{
		MediaType: layer.MediaTypeGzip,
		Digest:    "sha256:" + hex.EncodeToString(data.SHA256),
		Size:      data.Size,
		DiffID:    "sha256:" + hex.EncodeToString(data.DiffID),
		CreatedBy: fmt.Sprintf("apk %s-%s", a.name, a.version),
		Annotations: map[string]string{
			"dev.rules-wharf.apk.package": a.name + "=" + a.version,
		},
	}
	facts := factsOf(h, data)
	if err := outs.WriteFile(factsOut, facts); err != nil {
		return err
	}
	// The metadata is published last (atomicfile.Set): no metadata without its blob.
	if err := outs.WriteFile(metaOut, meta.Marshal()); err != nil {
		return err
	}
	return outs.Commit()
}

func factsOf(h *apk.Head, data *apk.DataResult) []byte {
	f := Facts{
		PkgInfo:     h.PkgInfo,
		Control:     apk.SRI{Algo: "sha1", Sum: h.ControlSHA1()}.String(),
		Data:        apk.SRI{Algo: "sha256", Sum: data.SHA256}.String(),
		APKSize:     h.DataOffset() + data.Size,
		ControlSize: int64(len(h.Control)),
		Files:       data.Entries,
		OSRelease:   data.OSRelease,
	}
	for _, n := range h.ControlNames {
		if n != ".PKGINFO" {
			f.Scripts = append(f.Scripts, apk.Script{Name: n, Mode: h.ControlModes[n], Content: h.ControlFiles[n]})
		}
	}
	b, _ := json.MarshalIndent(f, "", "  ")
	return append(b, '\n')
}

// verifyRequest is one package to check, as apk-verify --packages lists them.
type verifyRequest struct {
	Name            string   `json:"name"`
	Version         string   `json:"version"`
	Arch            string   `json:"arch"`
	Parts           []string `json:"parts"`
	ControlChecksum string   `json:"control_checksum"`
	DataChecksum    string   `json:"data_checksum"`
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

func apkVerify(args []string) error {
	var a apkFlags
	var keys cli.Strings
	var out, list, lock string
	var requireSigs bool
	fs := newFlags("apk-verify")
	fs.StringVar(&a.name, "name", "", "package name (from the lock)")
	fs.StringVar(&a.version, "version", "", "package version (from the lock)")
	fs.StringVar(&a.arch, "arch", "", "package architecture (from the lock)")
	fs.Var(&a.parts, "part", "file holding the next bytes of the package (repeatable); the data member is not read")
	fs.StringVar(&a.controlChecksum, "control-checksum", "", "lock's control checksum (sha1-…)")
	fs.StringVar(&a.dataChecksum, "data-checksum", "", "lock's data checksum (sha256-…)")
	fs.Var(&keys, "key", "PEM public key file; its base name is the key name (repeatable)")
	fs.StringVar(&out, "out", "", "output: verification record JSON")
	fs.StringVar(&list, "packages", "", "JSON list of packages to check ({name, version, arch, parts, control_checksum, data_checksum}) instead of --name/--version/--arch/--part")
	fs.StringVar(&lock, "lock", "", "the lock the packages come from, for messages")
	fs.BoolVar(&requireSigs, "require-signatures", false, "fail on unsigned packages instead of trusting them through the lock")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var reqs []verifyRequest
	if list != "" {
		b, err := os.ReadFile(list)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &reqs); err != nil {
			return fmt.Errorf("--packages %s: %w", list, err)
		}
	} else {
		if err := cli.Require("name", a.name, "version", a.version, "arch", a.arch); err != nil {
			return err
		}
		reqs = []verifyRequest{{Name: a.name, Version: a.version, Arch: a.arch, Parts: a.parts, ControlChecksum: a.controlChecksum, DataChecksum: a.dataChecksum}}
	}
	if err := cli.Require("out", out); err != nil {
		return err
	}
	ring := apk.Keyring{}
	for _, k := range keys {
		b, err := os.ReadFile(k)
		if err != nil {
			return err
		}
		if err := ring.AddPEM(k, b); err != nil {
			return err
		}
	}
	inLock := ""
	if lock != "" {
		inLock = " (lock " + lock + ")"
	}
	recs := []verifyRecord{}
	var unsigned []string
	for _, req := range reqs {
		rec, err := verifyOne(ring, &apkFlags{name: req.Name, version: req.Version, arch: req.Arch, parts: req.Parts, controlChecksum: req.ControlChecksum, dataChecksum: req.DataChecksum})
		if err != nil {
			return fmt.Errorf("%w%s", err, inLock)
		}
		if requireSigs && rec.Trust != TrustSignature {
			unsigned = append(unsigned, fmt.Sprintf("%s-%s (%s)", req.Name, req.Version, req.Arch))
		}
		recs = append(recs, rec)
	}
	if len(unsigned) > 0 {
		return fmt.Errorf("require_signatures is set%s, but %d of %d packages are not signed: %s",
			inLock, len(unsigned), len(reqs), strings.Join(unsigned, ", "))
	}
	b, _ := json.MarshalIndent(recs, "", "  ")
	return atomicfile.WriteFile(out, append(b, '\n'))
}

// verifyRecord is what apk-verify writes for each package.
type verifyRecord struct {
	Package  string `json:"package"`
	Version  string `json:"version"`
	Arch     string `json:"arch"`
	Control  string `json:"control"`
	Trust    string `json:"trust"`               // TrustSignature or TrustLock
	SignedBy string `json:"signed_by,omitempty"` // the key, with TrustSignature
	DataHash string `json:"datahash,omitempty"`  // pinned by the lock, with TrustLock
}

// verifyOne reads only a package's head: signature and control members. A signed package
// must verify against the keyring; an unsigned one is trusted only through the lock.
func verifyOne(ring apk.Keyring, a *apkFlags) (verifyRecord, error) {
	r, closeAll, err := a.open()
	if err != nil {
		return verifyRecord{}, err
	}
	defer closeAll()
	h, _, err := a.head(r)
	if err != nil {
		return verifyRecord{}, err
	}
	rec := verifyRecord{Package: a.name, Version: a.version, Arch: a.arch, Control: apk.SRI{Algo: "sha1", Sum: h.ControlSHA1()}.String()}
	if len(h.Signatures) > 0 {
		signer, err := ring.VerifySignature(h.Signatures, h.Control)
		if err != nil {
			return verifyRecord{}, fmt.Errorf("package %s: %w", a.label(), err)
		}
		rec.Trust, rec.SignedBy = TrustSignature, signer
		return rec, nil
	}
	if err := a.lockPins(h); err != nil {
		return verifyRecord{}, fmt.Errorf("package %s: not signed, and %w", a.label(), err)
	}
	rec.Trust, rec.DataHash = TrustLock, h.PkgInfo.DataHash
	return rec, nil
}

// lockPins checks the chain that stands in for a signature: the lock pins the control
// member (head has compared its sha1 already), whose .PKGINFO datahash pins the data member,
// which the lock pins too. apk-extract compares the data member with both.
func (a *apkFlags) lockPins(h *apk.Head) error {
	if a.controlChecksum == "" {
		return errors.New("the lock has no control checksum for it: nothing vouches for it")
	}
	if h.PkgInfo.DataHash == "" {
		return errors.New("its .PKGINFO has no datahash: nothing pins its data member")
	}
	sum, err := apk.HexDataHash(h.PkgInfo.DataHash)
	if err != nil {
		return fmt.Errorf(".PKGINFO: %w", err)
	}
	if a.dataChecksum == "" {
		return errors.New("the lock has no data checksum for it: nothing but the control member pins its data")
	}
	ok, err := a.lockDataIs(sum)
	if err != nil {
		return err
	}
	if !ok {
		// The datahash as .PKGINFO has it (hex) and in the lock's form (sha256-<base64>).
		return fmt.Errorf("its .PKGINFO datahash %s (%s) is not the lock's data checksum %s",
			h.PkgInfo.DataHash, apk.SRI{Algo: "sha256", Sum: sum}, a.dataChecksum)
	}
	return nil
}

// lockDataIs reports whether the lock's data checksum is the sha256 sum.
func (a *apkFlags) lockDataIs(sum []byte) (bool, error) {
	want, err := apk.ParseSRI(a.dataChecksum)
	if err != nil {
		return false, fmt.Errorf("lock data checksum: %w", err)
	}
	return want.Algo == "sha256" && bytes.Equal(want.Sum, sum), nil
}
