/* heap_sym.h - symbolises user-space addresses of a live process: /proc/PID/maps gives
 * the file and offset, the file's ELF symbol tables (.symtab, else .dynsym) the nearest
 * preceding function. Parsed files are cached. */
#ifndef OSD_HEAP_SYM_H
#define OSD_HEAP_SYM_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct heap_sym;

int heap_sym_open(struct heap_sym **out);
void heap_sym_close(struct heap_sym *s);
/* Writes "module!symbol+0xoff" (or "module+0xoff" without a symbol, "0xaddr" outside any
 * file mapping) of each address, innermost first, separated by ';', into buf (always
 * NUL-terminated; frames that do not fit are left out). Returns the frames written, or a
 * negative errno if the process's maps cannot be read. */
int heap_sym_stack(struct heap_sym *s, pid_t pid, const uint64_t *ips, size_t n, char *buf, size_t len);
#endif
