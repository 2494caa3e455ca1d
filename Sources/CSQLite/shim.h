// What Swift cannot import from <sqlite3.h>: SQLITE_TRANSIENT is a cast macro ((sqlite3_destructor_type)-1).
#ifndef KIOSK_CSQLITE_SHIM_H
#define KIOSK_CSQLITE_SHIM_H

#include <sqlite3.h>

/// Binds text that SQLite copies before this returns.
static inline int kiosk_sqlite3_bind_text(sqlite3_stmt *statement, int index, const char *text, int bytes) {
    return sqlite3_bind_text(statement, index, text, bytes, SQLITE_TRANSIENT);
}

/// Binds a blob that SQLite copies before this returns.
static inline int kiosk_sqlite3_bind_blob(sqlite3_stmt *statement, int index, const void *bytes, int count) {
    return sqlite3_bind_blob(statement, index, bytes, count, SQLITE_TRANSIENT);
}

#endif
