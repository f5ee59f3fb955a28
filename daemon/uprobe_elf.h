/* uprobe_elf.h - finds a function in an ELF executable or shared library for a uprobe:
 * its file offset from .symtab or .dynsym, or a message saying why it cannot be probed
 * (no such file, not ELF, not an executable or library, no such function, stripped). */
#ifndef OSD_UPROBE_ELF_H
#define OSD_UPROBE_ELF_H
#include <stddef.h>
#include <stdint.h>

/* 0 with *offset, or a negative errno with why filled: -ENOENT (no file), -EACCES,
 * -EISDIR (not a regular file), -ENOEXEC (not ELF, or not ET_EXEC/ET_DYN), -ESRCH (no
 * such function; why says when the file is stripped), -ENOMEM. */
int uprobe_elf_resolve(const char *path, const char *func, uint64_t *offset, char *why, size_t whylen);
#endif
