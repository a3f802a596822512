"""A minimal writer of x86-64 ELF shared objects that hold only dynamic symbols and DT_NEEDED
entries — what the libpython shim and the per-extension wrappers of isolated VLCs need — so that
end users need no linker at run time.

Layout (one read-write PT_LOAD maps the whole file at offset 0 = address 0)::

    ELF header | program headers (PT_LOAD, PT_DYNAMIC, PT_GNU_STACK) | .hash | .dynsym | .dynstr
    | .dynamic | .shstrtab | section headers

The section headers are not needed by the dynamic linker; they make the file readable by
pyelftools, readelf and nm. Symbols are absolute (SHN_ABS): glibc uses their st_value as the final
address, unrelocated. Lookup uses the SysV DT_HASH table.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

SHN_ABS = 0xFFF1
STB = {"STB_GLOBAL": 1, "STB_WEAK": 2}
STT = {"STT_NOTYPE": 0, "STT_OBJECT": 1, "STT_FUNC": 2}
DT_NULL, DT_NEEDED, DT_HASH, DT_STRTAB, DT_SYMTAB, DT_STRSZ, DT_SYMENT, DT_SONAME = 0, 1, 4, 5, 6, 10, 11, 14
PT_LOAD, PT_DYNAMIC, PT_GNU_STACK = 1, 2, 0x6474E551
SHT_STRTAB, SHT_HASH, SHT_DYNAMIC, SHT_DYNSYM = 3, 5, 6, 11
SHF_WRITE, SHF_ALLOC = 1, 2
EHDR, PHDR, SHDR, SYM, DYN = 64, 56, 64, 24, 16


@dataclass(frozen=True)
class AbsSymbol:
    name: str
    address: int
    kind: str = "STT_FUNC"      # STT_FUNC, STT_OBJECT or STT_NOTYPE
    size: int = 0
    bind: str = "STB_GLOBAL"


def elf_hash(name: bytes) -> int:
    h = 0
    for c in name:
        h = ((h << 4) + c) & 0xFFFFFFFF
        g = h & 0xF0000000
        if g:
            h ^= g >> 24
        h &= ~g & 0xFFFFFFFF
    return h


class _StrTab:
    def __init__(self) -> None:
        self.data = bytearray(b"\0")
        self._at: dict[bytes, int] = {}

    def add(self, s: str) -> int:
        b = s.encode()
        if b not in self._at:
            self._at[b] = len(self.data)
            self.data += b + b"\0"
        return self._at[b]


def _align(n: int, a: int) -> int:
    return (n + a - 1) & ~(a - 1)


def shared_object(symbols: list[AbsSymbol], needed: list[str] = (), soname: str | None = None) -> bytes:
    """Bytes of a shared object defining `symbols` (absolute) and depending on `needed` (in order)."""
    dynstr = _StrTab()
    needed_off = [dynstr.add(n) for n in needed]
    soname_off = dynstr.add(soname) if soname else None
    names = [dynstr.add(s.name) for s in symbols]

    # .dynsym: the null symbol, then ours
    dynsym = bytearray(SYM)
    for s, off in zip(symbols, names):
        info = (STB[s.bind] << 4) | STT[s.kind]
        dynsym += struct.pack("<IBBHQQ", off, info, 0, SHN_ABS, s.address, s.size)
    nsyms = len(symbols) + 1

    # .hash (SysV): nbucket, nchain, buckets, chains
    nbucket = max(1, nsyms // 2 | 1)
    buckets = [0] * nbucket
    chains = [0] * nsyms
    for i in range(nsyms - 1, 0, -1):      # insert in reverse so chains list low indices first
        b = elf_hash(symbols[i - 1].name.encode()) % nbucket
        chains[i] = buckets[b]
        buckets[b] = i
    hashtab = struct.pack(f"<II{nbucket}I{nsyms}I", nbucket, nsyms, *buckets, *chains)

    shstr = _StrTab()
    sec_names = {n: shstr.add(n) for n in (".hash", ".dynsym", ".dynstr", ".dynamic", ".shstrtab")}

    off_hash = EHDR + 3 * PHDR
    off_dynsym = _align(off_hash + len(hashtab), 8)
    off_dynstr = off_dynsym + len(dynsym)
    ndyn = len(needed) + (1 if soname else 0) + 6
    off_dynamic = _align(off_dynstr + len(dynstr.data), 8)
    off_shstr = off_dynamic + ndyn * DYN
    off_shdr = _align(off_shstr + len(shstr.data), 8)
    size = off_shdr + 6 * SHDR

    dyn = bytearray()
    for n in needed_off:
        dyn += struct.pack("<qQ", DT_NEEDED, n)
    if soname_off is not None:
        dyn += struct.pack("<qQ", DT_SONAME, soname_off)
    for tag, val in ((DT_HASH, off_hash), (DT_STRTAB, off_dynstr), (DT_SYMTAB, off_dynsym),
                     (DT_STRSZ, len(dynstr.data)), (DT_SYMENT, SYM), (DT_NULL, 0)):
        dyn += struct.pack("<qQ", tag, val)

    out = bytearray(size)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0, 0]) + bytes(7)   # 64-bit, LSB, version 1, SYSV ABI
    out[0:EHDR] = ident + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, EHDR, off_shdr, 0,
                                      EHDR, PHDR, 3, SHDR, 6, 5)
    phdrs = [
        (PT_LOAD, 6, 0, 0, 0, off_shstr, off_shstr, 0x1000),
        (PT_DYNAMIC, 6, off_dynamic, off_dynamic, off_dynamic, len(dyn), len(dyn), 8),
        (PT_GNU_STACK, 6, 0, 0, 0, 0, 0, 16),
    ]
    for i, ph in enumerate(phdrs):
        out[EHDR + i * PHDR:EHDR + (i + 1) * PHDR] = struct.pack("<IIQQQQQQ", *ph)
    out[off_hash:off_hash + len(hashtab)] = hashtab
    out[off_dynsym:off_dynsym + len(dynsym)] = dynsym
    out[off_dynstr:off_dynstr + len(dynstr.data)] = dynstr.data
    out[off_dynamic:off_dynamic + len(dyn)] = dyn
    out[off_shstr:off_shstr + len(shstr.data)] = shstr.data
    # section headers: name, type, flags, addr, offset, size, link, info, addralign, entsize
    shdrs = [
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        (sec_names[".hash"], SHT_HASH, SHF_ALLOC, off_hash, off_hash, len(hashtab), 2, 0, 8, 4),
        (sec_names[".dynsym"], SHT_DYNSYM, SHF_ALLOC, off_dynsym, off_dynsym, len(dynsym), 3, 1, 8, SYM),
        (sec_names[".dynstr"], SHT_STRTAB, SHF_ALLOC, off_dynstr, off_dynstr, len(dynstr.data), 0, 0, 1, 0),
        (sec_names[".dynamic"], SHT_DYNAMIC, SHF_ALLOC | SHF_WRITE, off_dynamic, off_dynamic, len(dyn), 3, 0, 8, DYN),
        (sec_names[".shstrtab"], SHT_STRTAB, 0, 0, off_shstr, len(shstr.data), 0, 0, 1, 0),
    ]
    for i, sh in enumerate(shdrs):
        out[off_shdr + i * SHDR:off_shdr + (i + 1) * SHDR] = struct.pack("<IIQQQQIIQQ", *sh)
    return bytes(out)
