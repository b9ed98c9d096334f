package apktest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"

	"github.com/rules-wharf/rules_wharf/tools/internal/apk/apkfile"
)

// ELF describes a tiny little-endian ELF file: a header and the sections ldconfig and apko
// read (.dynstr, .dynamic with DT_SONAME, .shstrtab), no code.
type ELF struct {
	Class   elf.Class   // default ELFCLASS64
	Machine elf.Machine // default EM_X86_64
	Type    elf.Type    // default ET_DYN (a shared object)
	Soname  string      // "" for none
}

// Bytes is the file.
func (e ELF) Bytes() []byte {
	if e.Class == elf.ELFCLASSNONE {
		e.Class = elf.ELFCLASS64
	}
	if e.Machine == elf.EM_NONE {
		e.Machine = elf.EM_X86_64
	}
	if e.Type == elf.ET_NONE {
		e.Type = elf.ET_DYN
	}
	is64 := e.Class == elf.ELFCLASS64
	word := func(b *bytes.Buffer, v uint64) { // an address-sized field
		if is64 {
			binary.Write(b, binary.LittleEndian, v)
		} else {
			binary.Write(b, binary.LittleEndian, uint32(v))
		}
	}
	ehsize, shentsize, dynsize := 52, 40, 8
	if is64 {
		ehsize, shentsize, dynsize = 64, 64, 16
	}
	dynstr := []byte("\x00" + e.Soname + "\x00")
	var dyn bytes.Buffer
	if e.Soname != "" {
		word(&dyn, uint64(elf.DT_SONAME))
		word(&dyn, 1)
	}
	word(&dyn, uint64(elf.DT_NULL))
	word(&dyn, 0)
	shstr := []byte("\x00.dynstr\x00.dynamic\x00.shstrtab\x00")
	align := func(n int) int { return (n + 7) &^ 7 }
	dynstrOff := ehsize
	dynOff := align(dynstrOff + len(dynstr))
	shstrOff := dynOff + dyn.Len()
	shOff := align(shstrOff + len(shstr))

	var b bytes.Buffer
	b.Write([]byte{0x7f, 'E', 'L', 'F', byte(e.Class), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)})
	b.Write(make([]byte, 9))
	binary.Write(&b, binary.LittleEndian, []uint16{uint16(e.Type), uint16(e.Machine)})
	binary.Write(&b, binary.LittleEndian, uint32(elf.EV_CURRENT))
	word(&b, 0) // entry
	word(&b, 0) // program headers: none
	word(&b, uint64(shOff))
	binary.Write(&b, binary.LittleEndian, []uint32{0})                                             // flags
	binary.Write(&b, binary.LittleEndian, []uint16{uint16(ehsize), 0, 0, uint16(shentsize), 4, 3}) // sizes, shnum, shstrndx
	b.Write(dynstr)
	b.Write(make([]byte, dynOff-b.Len()))
	b.Write(dyn.Bytes())
	b.Write(shstr)
	b.Write(make([]byte, shOff-b.Len()))
	section := func(name uint32, typ elf.SectionType, off, size, link, entsize int) {
		binary.Write(&b, binary.LittleEndian, []uint32{name, uint32(typ)})
		word(&b, 0) // flags
		word(&b, 0) // address
		word(&b, uint64(off))
		word(&b, uint64(size))
		binary.Write(&b, binary.LittleEndian, []uint32{uint32(link), 0})
		word(&b, 1) // alignment
		word(&b, uint64(entsize))
	}
	section(0, elf.SHT_NULL, 0, 0, 0, 0)
	section(1, elf.SHT_STRTAB, dynstrOff, len(dynstr), 0, 0)
	section(9, elf.SHT_DYNAMIC, dynOff, dyn.Len(), 1, dynsize)
	section(18, elf.SHT_STRTAB, shstrOff, len(shstr), 0, 0)
	return b.Bytes()
}

// Facts builds p unsigned and returns the facts apk-extract records of it.
func Facts(p Package) (*apkfile.Facts, error) {
	p.Unsigned = true
	b, err := Build(p, nil)
	if err != nil {
		return nil, err
	}
	h, rest, err := apkfile.ReadHead(bytes.NewReader(b.APK))
	if err != nil {
		return nil, err
	}
	d, err := rest.CopyData(nil, 64<<20)
	if err != nil {
		return nil, err
	}
	return apkfile.FactsOf(h, d), nil
}
