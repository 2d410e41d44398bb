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
        return rocky_store_fail(s, rc, "starting a transaction", err, err_size);
    }
    return 0;
}

int rocky_store_batch_commit(struct rocky_store *s, char *err, size_t err_size)
{
    if (s == NULL || sqlite3_get_autocommit(s->db))
        return ROCKY_EINVAL;
    int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int code = rocky_store_fail(s, rc, "commit", err, err_size);
        rocky_store_batch_rollback(s);
        return code;
    }
    return 0;
}

void rocky_store_batch_rollback(struct rocky_store *s)
{
    if (s != NULL && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}
