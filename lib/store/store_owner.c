/* store_owner.c — who owns a running run, and whether they are still alive.
 *
 * A run is marked running with its owner's pid, the pid's start time and the
 * hostname. On read, a running run whose owner is gone is reported crashed:
 * that is how a SIGKILLed or OOM-killed runner shows up. The start time
 * guards against pid reuse (a recycled pid has a different start time). */
#include "store_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Field 22 of /proc/<pid>/stat (process start time in clock ticks), or 0. */
static int64_t start_ticks_of(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name (field 2) may hold spaces and ')'; skip to the last
     * ')' and count fields from there (field 3 follows it). */
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return 0;
    p++;
    int field = 2;
    long long value = 0;
    char *save = NULL;
    for (char *tok = strtok_r(p, " ", &save); tok != NULL;
         tok = strtok_r(NULL, " ", &save)) {
        field++;
        if (field == 22) {
            if (sscanf(tok, "%lld", &value) != 1)
                return 0;
            return value;
        }
    }
    return 0;
}

void rocky_store_owner_self(struct rocky_store_owner *owner)
{
    memset(owner, 0, sizeof *owner);
    owner->pid = (int)getpid();
    owner->start_ticks = start_ticks_of(owner->pid);
    if (gethostname(owner->host, sizeof owner->host - 1) != 0)
        owner->host[0] = '\0';
}

int rocky_store_owner_gone(int pid, int64_t start_ticks, const char *host)
{
    if (pid <= 0)
        return 0;
    struct rocky_store_owner self;
    rocky_store_owner_self(&self);
    /* Another machine's pid means nothing here: we cannot tell. */
    if (host == NULL || strcmp(host, self.host) != 0)
        return 0;
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        return 1;
    if (start_ticks != 0) {
        int64_t now = start_ticks_of(pid);
        if (now != 0 && now != start_ticks)
            return 1; /* the pid now belongs to another process */
    }
    return 0;
}
