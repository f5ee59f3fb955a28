/* uprobe_elf.c - see uprobe_elf.h. */
#include "uprobe_elf.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_tables.h"

/* "foo" matches "foo" and the versioned "foo@VER" / "foo@@VER". */
static bool name_matches(const char *name, const char *func)
{
    size_t n = strlen(func);

    return !strncmp(name, func, n) && (name[n] == '\0' || name[n] == '@');
}

/* Looks func up in one symbol table: 1 found (*offset set), 0 absent, 2 present but not
 * a defined function (*kind says what it is). */
static int find_in(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, const char *func, uint64_t *offset, int *kind)
{
    Elf_Data *data = elf_getdata(scn, NULL);
    size_t count = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
    int ret = 0;

    for (size_t i = 0; data && i < count; i++) {
        GElf_Sym sym;
        GElf_Shdr tsh;
        Elf_Scn *text;
        const char *name;

        if (!gelf_getsym(data, (int)i, &sym) || !(name = elf_strptr(e, sh->sh_link, sym.st_name)) ||
            !name_matches(name, func))
            continue;
        if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF || !sym.st_value ||
            sym.st_shndx >= SHN_LORESERVE) {
            *kind = sym.st_shndx == SHN_UNDEF ? -1 : GELF_ST_TYPE(sym.st_info);
            ret = 2;
            continue;
        }
        /* the probe wants a file offset: move the address from its section's place in
         * memory to its place in the file */
        text = elf_getscn(e, sym.st_shndx);
        if (!text || !gelf_getshdr(text, &tsh) || sym.st_value < tsh.sh_addr) {
            *kind = -2;
            ret = 2;
            continue;
        }
        *offset = sym.st_value - tsh.sh_addr + tsh.sh_offset;
        return 1;
    }
    return ret;
}

int uprobe_elf_resolve(const char *path, const char *func, uint64_t *offset, char *why, size_t whylen)
{
    struct elf_tables tb;
    GElf_Ehdr eh;
    struct stat st;
    int fd, err = 0, found = 0, kind = 0;
    Elf *e = NULL;

    if (elf_version(EV_CURRENT) == EV_NONE) {
        snprintf(why, whylen, "libelf is unusable");
        return -ENOTSUP;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err = -errno;
        snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
        return err;
    }
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "%s is not a regular file", path);
        err = -EISDIR;
        goto out;
    }
    e = elf_begin(fd, ELF_C_READ, NULL);
    if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh)) {
        snprintf(why, whylen, "%s is not an ELF file", path);
        err = -ENOEXEC;
        goto out;
    }
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
        snprintf(why, whylen, "%s is not an executable or shared library (ELF type %u)", path, (unsigned)eh.e_type);
        err = -ENOEXEC;
        goto out;
    }
    elf_tables_find(e, &tb);
    if (tb.symtab)
        found = find_in(e, tb.symtab, &tb.sh_sym, func, offset, &kind);
    if (found != 1 && tb.dynsym) {
        int k2 = 0, f2 = find_in(e, tb.dynsym, &tb.sh_dyn, func, offset, &k2);

        if (f2 == 1 || !found)
            found = f2, kind = k2;
    }
    if (found == 1)
        goto out;
    err = -ESRCH;
    if (found == 2 && kind == -1)
        snprintf(why, whylen, "no symbol '%s' in %s: it is only imported there (probe the library that defines it)",
                 func, path);
    else if (found == 2)
        snprintf(why, whylen, "no function '%s' in %s: the symbol is not a function defined there", func, path);
    else if (!tb.symtab)
        snprintf(why, whylen, "no symbol '%s' in %s: the binary is stripped (no .symtab) and '%s' is not in .dynsym",
                 func, path, func);
    else
        snprintf(why, whylen, "no symbol '%s' in %s", func, path);
out:
    if (e)
        elf_end(e);
    close(fd);
    return err;
}
