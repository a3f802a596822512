"""What corun needs to know about ELF shared objects, read with pyelftools: the GOT slots through
which an object calls other objects, its RELRO range, and the dynamic symbols it exports.

Results are cached per (path, size, mtime): an object on disk does not change while it is loaded.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

R_X86_64_GLOB_DAT = 6
R_X86_64_JUMP_SLOT = 7


@dataclass(frozen=True)
class ImportSlot:
    """One GOT slot filled by the dynamic linker with the address of an undefined symbol."""
    name: str
    offset: int          # r_offset: the slot's address relative to the object's load base
    jump_slot: bool      # R_X86_64_JUMP_SLOT (PLT call) rather than R_X86_64_GLOB_DAT


@dataclass(frozen=True)
class ObjectImports:
    slots: tuple[ImportSlot, ...]
    needed: tuple[str, ...]                 # DT_NEEDED entries
    relro: tuple[int, int] | None           # (start, end) of PT_GNU_RELRO, relative to load base


@dataclass(frozen=True)
class Export:
    name: str
    value: int           # st_value: relative to load base for shared objects
    kind: str            # STT_FUNC, STT_OBJECT, ...
    size: int
    bind: str            # STB_GLOBAL or STB_WEAK


def _key(path: str) -> tuple[str, int, int]:
    st = os.stat(path)
    return (os.path.realpath(path), st.st_size, st.st_mtime_ns)


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "corun" / "elf-imports"


def imports(path: str) -> ObjectImports:
    """GOT slots (JUMP_SLOT and GLOB_DAT relocations of undefined symbols) of the object at path.

    Reading relocations with pyelftools costs about 0.1 s for an object with 1,700 of them (each
    of scipy's LAPACK-using extensions), so results are also kept on disk, keyed by path, size and
    mtime, under $XDG_CACHE_HOME/corun/elf-imports (set CORUN_ELF_CACHE=0 to disable).
    """
    return _imports(*_key(path))


def _on_disk(prefix: str, path: str, size: int, mtime: int, read, encode, decode):
    """read(path), kept in $XDG_CACHE_HOME/corun/elf-imports keyed by path, size and mtime
    (CORUN_ELF_CACHE=0: never on disk). encode/decode turn the result into JSON data and back; an
    unreadable or stale-format file is read again."""
    use_disk = os.environ.get("CORUN_ELF_CACHE", "1") != "0"
    file = _cache_dir() / (prefix + hashlib.sha256(f"{path}\0{size}\0{mtime}".encode()).hexdigest()[:32] + ".json")
    if use_disk:
        try:
            return decode(json.loads(file.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            pass
    result = read(path)
    if use_disk:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            tmp = file.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"path": path, **encode(result)}))
            os.replace(tmp, file)
        except OSError:
            pass
    return result


@lru_cache(maxsize=1024)
def _imports(path: str, size: int, mtime: int) -> ObjectImports:
    return _on_disk(
        "", path, size, mtime, _read_imports,
        lambda r: {"slots": [[s.name, s.offset, s.jump_slot] for s in r.slots], "needed": list(r.needed),
                   "relro": r.relro},
        lambda d: ObjectImports(tuple(ImportSlot(n, o, j) for n, o, j in d["slots"]), tuple(d["needed"]),
                                tuple(d["relro"]) if d["relro"] else None))


def _read_imports(path: str) -> ObjectImports:
    slots: list[ImportSlot] = []
    needed: list[str] = []
    relro = None
    with open(path, "rb") as f:
        elf = ELFFile(f)
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_GNU_RELRO":
                relro = (seg["p_vaddr"], seg["p_vaddr"] + seg["p_memsz"])
        for sec in elf.iter_sections():
            if isinstance(sec, DynamicSection):
                needed.extend(t.needed for t in sec.iter_tags() if t.entry.d_tag == "DT_NEEDED")
            if not isinstance(sec, RelocationSection) or not sec.is_RELA():
                continue
            symtab = elf.get_section(sec["sh_link"])
            if symtab is None or symtab.name != ".dynsym":
                continue
            names: dict[int, str | None] = {}
            for rel in sec.iter_relocations():
                rtype = rel["r_info_type"]
                if rtype not in (R_X86_64_JUMP_SLOT, R_X86_64_GLOB_DAT):
                    continue
                idx = rel["r_info_sym"]
                name = names.get(idx, "")
                if name == "":
                    sym = symtab.get_symbol(idx)
                    undefined = sym["st_shndx"] == "SHN_UNDEF" and sym.name
                    name = names[idx] = sym.name if undefined else None
                if name:
                    slots.append(ImportSlot(name, rel["r_offset"], rtype == R_X86_64_JUMP_SLOT))
    return ObjectImports(tuple(slots), tuple(needed), relro)


def exports(path: str) -> tuple[Export, ...]:
    """Defined global and weak dynamic symbols of the object at path (no TLS symbols); kept on disk
    like imports()."""
    return _exports(*_key(path))


@lru_cache(maxsize=64)
def _exports(path: str, size: int, mtime: int) -> tuple[Export, ...]:
    return _on_disk(
        "x", path, size, mtime, _read_exports,
        lambda r: {"exports": [[e.name, e.value, e.kind, e.size, e.bind] for e in r]},
        lambda d: tuple(Export(*e) for e in d["exports"]))


def _read_exports(path: str) -> tuple[Export, ...]:
    out: list[Export] = []
    with open(path, "rb") as f:
        elf = ELFFile(f)
        dynsym = elf.get_section_by_name(".dynsym")
        if dynsym is None:
            return ()
        for sym in dynsym.iter_symbols():
            info = sym["st_info"]
            if (sym["st_shndx"] == "SHN_UNDEF" or not sym.name
                    or info["bind"] not in ("STB_GLOBAL", "STB_WEAK") or info["type"] == "STT_TLS"):
                continue
            out.append(Export(sym.name, sym["st_value"], info["type"], sym["st_size"], info["bind"]))
    return tuple(out)
