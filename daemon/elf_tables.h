/* elf_tables.h - the symbol tables of an ELF file (libelf), for the heap stack symboliser
 * and the uprobe function lookup. */
#ifndef OSD_ELF_TABLES_H
#define OSD_ELF_TABLES_H
#include <gelf.h>

struct elf_tables {
    Elf_Scn *symtab, *dynsym; /* NULL when absent (.symtab: a stripped file) */
    GElf_Shdr sh_sym, sh_dyn;
};

void elf_tables_find(Elf *e, struct elf_tables *t);
#endif
