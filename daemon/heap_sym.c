/* heap_sym.c - see heap_sym.h. */
#include "heap_sym.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_tables.h"

#define SYM_CACHE 16
#define MAX_MAPS 4096

struct fsym {
    uint64_t addr;
    int rank; /* lower is a better name for the address */
    char *name;
};

struct seg {
    uint64_t off, vaddr, filesz;
};

struct elf_file {
    char path[256];
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    struct fsym *syms; /* sorted by addr, one per address */
    size_t nsyms;
    struct seg *segs;
    size_t nsegs;
    unsigned long used; /* for eviction */
};

struct heap_sym {
    struct elf_file files[SYM_CACHE];
    unsigned long clock;
};

struct map {
    uint64_t start, end, off;
    char path[256];
};

int heap_sym_open(struct heap_sym **out)
{
    if (elf_version(EV_CURRENT) == EV_NONE)
        return -ENOTSUP;
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : -ENOMEM;
}

static void file_free(struct elf_file *f)
{
    for (size_t i = 0; i < f->nsyms; i++)
        free(f->syms[i].name);
    free(f->syms);
    free(f->segs);
    memset(f, 0, sizeof(*f));
}

void heap_sym_close(struct heap_sym *s)
{
    if (!s)
        return;
    for (int i = 0; i < SYM_CACHE; i++)
        file_free(&s->files[i]);
    free(s);
}

/* Several names often share an address (free, __libc_free, cfree): prefer a global name
 * without a leading underscore, which is the one a programmer calls. */
static int name_rank(const char *name, int bind)
{
    return (name[0] == '_') * 4 + (bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2);
}

static int cmp_sym(const void *a, const void *b)
{
    const struct fsym *x = a, *y = b;

    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->rank != y->rank)
        return x->rank - y->rank;
    if (strlen(x->name) != strlen(y->name)) /* free before cfree */
        return strlen(x->name) < strlen(y->name) ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int add_symtab(Elf *e, Elf_Scn *scn, GElf_Shdr *sh, struct fsym **syms, size_t *n, size_t *cap)
{
    Elf_Data *data = elf_getdata(scn, NULL);
    size_t count = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

    for (size_t i = 0; data && i < count; i++) {
        GElf_Sym sym;
        const char *name;

        if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC || !sym.st_value ||
            sym.st_shndx == SHN_UNDEF)
            continue;
        name = elf_strptr(e, sh->sh_link, sym.st_name);
        if (!name || !*name)
            continue;
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 256;
            struct fsym *ns = realloc(*syms, nc * sizeof(*ns));
            if (!ns)
                return -ENOMEM;
            *syms = ns;
            *cap = nc;
        }
        (*syms)[*n].addr = sym.st_value;
        (*syms)[*n].rank = name_rank(name, GELF_ST_BIND(sym.st_info));
        (*syms)[*n].name = strdup(name);
        if (!(*syms)[*n].name)
            return -ENOMEM;
        (*n)++;
    }
    return 0;
}

static int file_load(struct elf_file *f, const char *path, const struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
    struct fsym *syms = NULL;
    size_t n = 0, cap = 0, nph = 0, m = 0;
    struct elf_tables tb;
    Elf *e;

    if (fd < 0)
        return -errno;
    e = elf_begin(fd, ELF_C_READ, NULL);
    if (!e || elf_kind(e) != ELF_K_ELF) {
        err = -ENOEXEC;
        goto out;
    }
    elf_tables_find(e, &tb);
    /* .symtab has every function (static ones too) when the file is not stripped */
    if (tb.symtab)
        err = add_symtab(e, tb.symtab, &tb.sh_sym, &syms, &n, &cap);
    if (!err && tb.dynsym)
        err = add_symtab(e, tb.dynsym, &tb.sh_dyn, &syms, &n, &cap);
    if (err)
        goto out;
    qsort(syms, n, sizeof(*syms), cmp_sym);
    for (size_t i = 0; i < n; i++) { /* keep the best name of each address */
        if (m && syms[m - 1].addr == syms[i].addr) {
            free(syms[i].name);
            continue;
        }
        syms[m++] = syms[i];
    }
    if (elf_getphdrnum(e, &nph) == 0 && nph) {
        f->segs = calloc(nph, sizeof(*f->segs));
        if (!f->segs) {
            err = -ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < nph; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD)
                f->segs[f->nsegs++] = (struct seg){ ph.p_offset, ph.p_vaddr, ph.p_filesz };
        }
    }
    snprintf(f->path, sizeof(f->path), "%s", path);
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->mtime = st->st_mtim;
    f->syms = syms;
    f->nsyms = m;
    syms = NULL;
    n = 0;
out:
    for (size_t i = 0; i < n; i++)
        free(syms[i].name);
    free(syms);
    if (e)
        elf_end(e);
    close(fd);
    return err;
}

static struct elf_file *file_get(struct heap_sym *s, const char *path)
{
    struct elf_file *victim = &s->files[0];
    struct stat st;

    if (stat(path, &st))
        return NULL;
    for (int i = 0; i < SYM_CACHE; i++) {
        struct elf_file *f = &s->files[i];
        if (f->path[0] && f->dev == st.st_dev && f->ino == st.st_ino && f->mtime.tv_sec == st.st_mtim.tv_sec &&
            f->mtime.tv_nsec == st.st_mtim.tv_nsec && !strcmp(f->path, path)) {
            f->used = ++s->clock;
            return f;
        }
        if (f->used < victim->used)
            victim = f;
    }
    file_free(victim);
    if (file_load(victim, path, &st)) {
        file_free(victim);
        return NULL;
    }
    victim->used = ++s->clock;
    return victim;
}

/* The nearest function symbol at or before vaddr, or NULL. */
static const struct fsym *file_sym(const struct elf_file *f, uint64_t vaddr)
{
    size_t lo = 0, hi = f->nsyms;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->syms[mid].addr <= vaddr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? &f->syms[lo - 1] : NULL;
}

static bool file_vaddr(const struct elf_file *f, uint64_t off, uint64_t *vaddr)
{
    for (size_t i = 0; i < f->nsegs; i++) {
        if (off >= f->segs[i].off && off < f->segs[i].off + f->segs[i].filesz) {
            *vaddr = off - f->segs[i].off + f->segs[i].vaddr;
            return true;
        }
    }
    return false;
}

static int read_maps(pid_t pid, struct map **out, size_t *n)
{
    char path[64], line[512];
    struct map *maps = NULL;
    size_t cap = 0, len = 0;
    FILE *fp;

    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    fp = fopen(path, "re");
    if (!fp)
        return -errno;
    while (fgets(line, sizeof(line), fp) && len < MAX_MAPS) {
        struct map m = { 0 };
        unsigned long long start, end, off;
        int pos = 0;

        if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %n", &start, &end, &off, &pos) < 3 || !pos)
            continue;
        if (line[pos] != '/')
            continue; /* anonymous, [heap], [stack], [vdso]: no file to read */
        line[strcspn(line, "\n")] = '\0';
        snprintf(m.path, sizeof(m.path), "%s", line + pos);
        m.start = start;
        m.end = end;
        m.off = off;
        if (len == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct map *nm = realloc(maps, nc * sizeof(*nm));
            if (!nm) {
                free(maps);
                fclose(fp);
                return -ENOMEM;
            }
            maps = nm;
            cap = nc;
        }
        maps[len++] = m;
    }
    fclose(fp);
    *out = maps;
    *n = len;
    return 0;
}

static void frame(struct heap_sym *s, const struct map *maps, size_t nmaps, uint64_t ip, char *out, size_t len)
{
    for (size_t i = 0; i < nmaps; i++) {
        const struct map *m = &maps[i];
        const char *base = strrchr(m->path, '/');
        struct elf_file *f;
        const struct fsym *sym;
        uint64_t off, vaddr;

        if (ip < m->start || ip >= m->end)
            continue;
        base = base ? base + 1 : m->path;
        off = ip - m->start + m->off;
        f = file_get(s, m->path);
        if (f && file_vaddr(f, off, &vaddr) && (sym = file_sym(f, vaddr))) {
            snprintf(out, len, "%s!%s+0x%llx", base, sym->name, (unsigned long long)(vaddr - sym->addr));
            return;
        }
        snprintf(out, len, "%s+0x%llx", base, (unsigned long long)off);
        return;
    }
    snprintf(out, len, "0x%llx", (unsigned long long)ip);
}

int heap_sym_stack(struct heap_sym *s, pid_t pid, const uint64_t *ips, size_t n, char *buf, size_t len)
{
    struct map *maps = NULL;
    size_t nmaps = 0, used = 0;
    int err, written = 0;

    if (len)
        buf[0] = '\0';
    err = read_maps(pid, &maps, &nmaps);
    if (err)
        return err;
    for (size_t i = 0; i < n && ips[i]; i++) {
        char f[320];
        size_t flen;

        frame(s, maps, nmaps, ips[i], f, sizeof(f));
        flen = strlen(f);
        if (used + flen + (used ? 1 : 0) + 1 > len)
            break;
        if (used)
            buf[used++] = ';';
        memcpy(buf + used, f, flen + 1);
        used += flen;
        written++;
    }
    free(maps);
    return written;
}
