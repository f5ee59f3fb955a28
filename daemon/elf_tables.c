/* elf_tables.c - see elf_tables.h. */
#include "elf_tables.h"

#include <string.h>

void elf_tables_find(Elf *e, struct elf_tables *t)
{
    Elf_Scn *scn = NULL;
    GElf_Shdr sh;

    memset(t, 0, sizeof(*t));
    while ((scn = elf_nextscn(e, scn))) {
        if (!gelf_getshdr(scn, &sh))
            continue;
        if (sh.sh_type == SHT_SYMTAB)
            t->symtab = scn, t->sh_sym = sh;
        else if (sh.sh_type == SHT_DYNSYM)
            t->dynsym = scn, t->sh_dyn = sh;
    }
}
