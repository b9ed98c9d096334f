// Package apktest builds signed APK v2 packages, APKINDEXes and apko-format locks from
// scratch, for tests and example fixtures. It writes packages as abuild does: a signature
// member and a control member without tar end-of-archive blocks, then a complete data tar,
// each gzip-compressed, with PAX APK-TOOLS.checksum.SHA1 records on regular files.
package apktest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"
	"time"
)

// File is one entry of a package's data tar.
type File struct {
	Path     string // relative, e.g. "etc/motd"; directories end without slash
	Content  string
	Mode     int64 // 0: 0644 files, 0755 dirs
	Dir      bool
	Linkname string // symlink target (hardlink target with Hardlink)
	Hardlink bool
	UID, GID int
}

// Package describes a package to build.
type Package struct {
	Name, Version, Arch  string
	Description, License string
	Origin, URL          string
	Depends, Provides    []string
	Replaces             []string
	ProviderPriority     int64
	Files                []File
	Scripts              map[string]string // ".post-install" -> content
	BuildDate            int64
	SHA256Signature      bool // .SIGN.RSA256 instead of .SIGN.RSA
	Unsigned             bool
	// KeepOrder writes the data tar entries in the order of Files instead of sorted by path.
	KeepOrder bool
	// GlobalPAX, when set, starts the data tar with a global PAX header (typeflag 'g',
	// named pax_global_header) holding these records, as `git archive` writes one.
	GlobalPAX map[string]string
}

// Sample is a small package (a file tree, a dependency, a provides and a script) that tests
// change through mod (may be nil).
func Sample(mod func(*Package)) Package {
	p := Package{
		Name: "hello", Version: "1.2.3-r4", Arch: "x86_64", License: "MIT", Origin: "hello-src",
		Depends: []string{"so:libc.musl-x86_64.so.1"}, Provides: []string{"cmd:hello=1.2.3-r4"},
		Files:   []File{{Path: "usr", Dir: true}, {Path: "usr/bin", Dir: true}, {Path: "usr/bin/hello", Content: "#!/bin/sh\necho hi\n", Mode: 0o755}},
		Scripts: map[string]string{".post-install": "#!/bin/sh\nexit 0\n"},
	}
	if mod != nil {
		mod(&p)
	}
	return p
}

// Key is a signing key and the name packages carry for it (the public key file name).
type Key struct {
	Name    string
	Private *rsa.PrivateKey
}

// NewKey generates a 2048-bit RSA key.
func NewKey(name string) (*Key, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &Key{Name: name, Private: k}, nil
}

// ParseKey reads a PKCS#1 or PKCS#8 PEM private key.
func ParseKey(name string, pemBytes []byte) (*Key, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return nil, fmt.Errorf("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return &Key{Name: name, Private: k}, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("not an RSA key")
	}
	return &Key{Name: name, Private: rk}, nil
}

// PrivatePEM renders the private key (PKCS#1).
func (k *Key) PrivatePEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.Private)})
}

// PublicPEM renders the public key as apk expects it (PKIX).
func (k *Key) PublicPEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(&k.Private.PublicKey)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Built is a package's bytes and the facts a lock or index records about it.
type Built struct {
	Package
	APK                  []byte
	SigSize, ControlSize int64
	DataSize             int64
	ControlSHA1          []byte
	SigSHA1              []byte
	DataSHA256           []byte
	InstalledSize        int64
}

var epoch = time.Unix(0, 0).UTC()

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// tarNoEOA writes entries without the two end-of-archive blocks, as abuild-tar --cut does.
func tarNoEOA(entries []tarEntry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		tw.WriteHeader(e.h)
		tw.Write(e.body)
	}
	tw.Flush()
	return buf.Bytes()
}

type tarEntry struct {
	h    *tar.Header
	body []byte
}

// Build builds the package, signing with key unless p.Unsigned.
func Build(p Package, key *Key) (*Built, error) {
	if p.Arch == "" {
		p.Arch = "x86_64"
	}
	data, installed, err := dataTar(p)
	if err != nil {
		return nil, err
	}
	dataGz := gz(data)
	dataSum := sha256.Sum256(dataGz)
	ctlGz := gz(tarNoEOA(controlEntries(p, pkgInfo(p, installed, dataSum[:]))))
	ctlSum := sha1.Sum(ctlGz)

	b := &Built{Package: p, ControlSHA1: ctlSum[:], DataSHA256: dataSum[:], InstalledSize: installed}
	var sigGz []byte
	if !p.Unsigned {
		if sigGz, err = SignatureMember(key, ctlGz, p.SHA256Signature); err != nil {
			return nil, err
		}
		s := sha1.Sum(sigGz)
		b.SigSHA1 = s[:]
	}
	b.APK = append(append(append([]byte(nil), sigGz...), ctlGz...), dataGz...)
	b.SigSize, b.ControlSize, b.DataSize = int64(len(sigGz)), int64(len(ctlGz)), int64(len(dataGz))
	return b, nil
}

// dataTar is the package's data tar: complete, sorted unless p.KeepOrder, with the SHA1
// PAX records apk-tools writes; installed is the size of its regular files.
func dataTar(p Package) (tarball []byte, installed int64, err error) {
	files := append([]File(nil), p.Files...)
	if !p.KeepOrder {
		sort.SliceStable(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	}
	var data bytes.Buffer
	tw := tar.NewWriter(&data)
	if p.GlobalPAX != nil {
		if err := tw.WriteHeader(&tar.Header{Name: "pax_global_header", Typeflag: tar.TypeXGlobalHeader, PAXRecords: p.GlobalPAX}); err != nil {
			return nil, 0, fmt.Errorf("global PAX header: %w", err)
		}
	}
	for _, f := range files {
		h := fileHeader(f, p.BuildDate)
		if h.Typeflag == tar.TypeReg {
			installed += int64(len(f.Content))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", f.Path, err)
		}
		tw.Write([]byte(f.Content))
	}
	if err := tw.Close(); err != nil {
		return nil, 0, err
	}
	return data.Bytes(), installed, nil
}

// fileHeader is f's data tar header, with the SHA1 PAX record of a symlink's target or a
// file's content.
func fileHeader(f File, buildDate int64) *tar.Header {
	h := &tar.Header{Name: f.Path, ModTime: time.Unix(buildDate, 0), Uid: f.UID, Gid: f.GID,
		Uname: "root", Gname: "root", Format: tar.FormatPAX}
	switch {
	case f.Dir:
		h.Typeflag, h.Name, h.Mode = tar.TypeDir, f.Path+"/", 0o755
	case f.Hardlink:
		h.Typeflag, h.Linkname, h.Mode = tar.TypeLink, f.Linkname, 0o644
	case f.Linkname != "":
		h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, f.Linkname, 0o777
		s := sha1.Sum([]byte(f.Linkname))
		h.PAXRecords = map[string]string{"APK-TOOLS.checksum.SHA1": hex.EncodeToString(s[:])}
	default:
		h.Typeflag, h.Size, h.Mode = tar.TypeReg, int64(len(f.Content)), 0o644
		s := sha1.Sum([]byte(f.Content))
		h.PAXRecords = map[string]string{"APK-TOOLS.checksum.SHA1": hex.EncodeToString(s[:])}
	}
	if f.Mode != 0 {
		h.Mode = f.Mode
	}
	return h
}

// pkgInfo is the package's .PKGINFO, as abuild writes it (empty values left out).
func pkgInfo(p Package, installed int64, dataSum []byte) string {
	var info strings.Builder
	fmt.Fprintf(&info, "# Generated by rules_wharf apktest\n")
	kv := func(k string, vs ...string) {
		for _, v := range vs {
			if v != "" {
				fmt.Fprintf(&info, "%s = %s\n", k, v)
			}
		}
	}
	kv("pkgname", p.Name)
	kv("pkgver", p.Version)
	kv("pkgdesc", p.Description)
	kv("url", p.URL)
	kv("builddate", fmt.Sprint(p.BuildDate))
	kv("size", fmt.Sprint(installed))
	kv("arch", p.Arch)
	kv("origin", p.Origin)
	kv("license", p.License)
	kv("depend", p.Depends...)
	kv("provides", p.Provides...)
	kv("replaces", p.Replaces...)
	if p.ProviderPriority != 0 {
		kv("provider_priority", fmt.Sprint(p.ProviderPriority))
	}
	kv("datahash", hex.EncodeToString(dataSum))
	return info.String()
}

// controlEntries are the control member's files: .PKGINFO, then the scripts by name.
func controlEntries(p Package, info string) []tarEntry {
	ctl := []tarEntry{{h: &tar.Header{Name: ".PKGINFO", Mode: 0o644, Size: int64(len(info)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}, body: []byte(info)}}
	scripts := make([]string, 0, len(p.Scripts))
	for n := range p.Scripts {
		scripts = append(scripts, n)
	}
	sort.Strings(scripts)
	for _, n := range scripts {
		body := []byte(p.Scripts[n])
		ctl = append(ctl, tarEntry{h: &tar.Header{Name: n, Mode: 0o755, Size: int64(len(body)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}, body: body})
	}
	return ctl
}

// SignatureMember signs signed (a raw gzip member) and returns the signature member.
func SignatureMember(key *Key, signed []byte, useSHA256 bool) ([]byte, error) {
	var sig []byte
	var err error
	name := ".SIGN.RSA." + key.Name
	if useSHA256 {
		d := sha256.Sum256(signed)
		sig, err = rsa.SignPKCS1v15(nil, key.Private, crypto.SHA256, d[:])
		name = ".SIGN.RSA256." + key.Name
	} else {
		d := sha1.Sum(signed)
		sig, err = rsa.SignPKCS1v15(nil, key.Private, crypto.SHA1, d[:])
	}
	if err != nil {
		return nil, err
	}
	return gz(tarNoEOA([]tarEntry{{h: &tar.Header{Name: name, Mode: 0o644, Size: int64(len(sig)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}, body: sig}})), nil
}

// Q1 renders a sha1 the way APKINDEX C: and lock package checksums do.
func Q1(sum []byte) string { return "Q1" + base64.StdEncoding.EncodeToString(sum) }

// SRI renders an integrity string.
func SRI(algo string, sum []byte) string { return algo + "-" + base64.StdEncoding.EncodeToString(sum) }

// Index builds a signed APKINDEX.tar.gz for the packages.
func Index(pkgs []*Built, key *Key, description string) ([]byte, error) {
	var idx strings.Builder
	for _, b := range pkgs {
		fmt.Fprintf(&idx, "C:%s\nP:%s\nV:%s\nA:%s\nS:%d\nI:%d\n", Q1(b.ControlSHA1), b.Name, b.Version, b.Arch, len(b.APK), b.InstalledSize)
		if b.Description != "" {
			fmt.Fprintf(&idx, "T:%s\n", b.Description)
		}
		if b.URL != "" {
			fmt.Fprintf(&idx, "U:%s\n", b.URL)
		}
		if b.License != "" {
			fmt.Fprintf(&idx, "L:%s\n", b.License)
		}
		if b.Origin != "" {
			fmt.Fprintf(&idx, "o:%s\n", b.Origin)
		}
		fmt.Fprintf(&idx, "t:%d\n", b.BuildDate)
		if len(b.Depends) > 0 {
			fmt.Fprintf(&idx, "D:%s\n", strings.Join(b.Depends, " "))
		}
		if len(b.Provides) > 0 {
			fmt.Fprintf(&idx, "p:%s\n", strings.Join(b.Provides, " "))
		}
		if b.ProviderPriority != 0 {
			fmt.Fprintf(&idx, "k:%d\n", b.ProviderPriority)
		}
		idx.WriteString("\n")
	}
	entries := []tarEntry{
		{h: &tar.Header{Name: "DESCRIPTION", Mode: 0o644, Size: int64(len(description)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}, body: []byte(description)},
		{h: &tar.Header{Name: "APKINDEX", Mode: 0o644, Size: int64(idx.Len()), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}, body: []byte(idx.String())},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		tw.WriteHeader(e.h)
		tw.Write(e.body)
	}
	tw.Close()
	body := gz(buf.Bytes())
	sig, err := SignatureMember(key, body, false)
	if err != nil {
		return nil, err
	}
	return append(sig, body...), nil
}

// LockPackage is the lock entry of a built package whose URL is url.
func LockPackage(b *Built, url string) map[string]any {
	rng := func(from, size int64) string { return fmt.Sprintf("bytes=%d-%d", from, from+size-1) }
	e := map[string]any{
		"name":         b.Name,
		"url":          url,
		"version":      b.Version,
		"architecture": b.Arch,
		"control":      map[string]string{"range": rng(b.SigSize, b.ControlSize), "checksum": SRI("sha1", b.ControlSHA1)},
		"data":         map[string]string{"range": rng(b.SigSize+b.ControlSize, b.DataSize), "checksum": SRI("sha256", b.DataSHA256)},
		"checksum":     Q1(b.ControlSHA1),
	}
	if b.SigSize > 0 {
		e["signature"] = map[string]string{"range": rng(0, b.SigSize), "checksum": SRI("sha1", b.SigSHA1)}
	} else {
		e["signature"] = map[string]string{"range": "", "checksum": ""}
	}
	return e
}
