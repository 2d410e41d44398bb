/* store_batch.c — see store_batch.h. */
#include "store_batch.h"
#include "store_internal.h"

#include "rocky/error.h"

int rocky_store_batch_begin(struct rocky_store *s, char *err, size_t err_size)
{
    if (s == NULL || !s->writable || !sqlite3_get_autocommit(s->db)) {
        rocky_store_errf(err, err_size, "state store: cannot start a batch");
        return ROCKY_EINVAL;
    }
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        rocky_store_errf(err, err_size, "state store %s: %s", s->path,
                         sqlite3_errmsg(s->db));
        return rocky_store_map_rc(rc);
    }
    return 0;
}

int rocky_store_batch_commit(struct rocky_store *s, char *err, size_t err_size)
{
    if (s == NULL || sqlite3_get_autocommit(s->db))
        return ROCKY_EINVAL;
    int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        rocky_store_errf(err, err_size, "state store %s: commit: %s", s->path,
                         sqlite3_errmsg(s->db));
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rocky_store_map_rc(rc);
    }
    return 0;
}
