//! SQLite's own guard for untrusted read-only queries: the engine, not our
//! lexer, decides what a statement does and where it ends.
//!
//! - An authorizer (`sqlite3_set_authorizer`) allows only reading: `SELECT`,
//!   reads of tables and columns, recursive CTEs, and the functions on an
//!   allow-list. Everything else — `ATTACH`/`DETACH`, `PRAGMA`, writes, DDL,
//!   transactions, `load_extension`, `fts3_tokenizer`, functions that
//!   allocate at will — is denied when the statement is prepared.
//! - `SQLITE_LIMIT_ATTACHED` is 0, so no other database file can be opened
//!   through this connection even if a rule were missed, and
//!   `SQLITE_LIMIT_LENGTH` bounds any one value.
//! - Statement boundaries are SQLite's: the text is prepared once and what
//!   the engine leaves unused (the tail) must hold no further statement. A
//!   classifier that disagrees with the engine about comments or quoting can
//!   no longer smuggle a second statement through.
//!
//! This is the crate's one FFI boundary; every `unsafe` block says why it
//! holds.

#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_int, c_void};

use libsqlite3_sys as ffi;

/// Functions an untrusted query may call: SQLite's core scalar, aggregate,
/// date, JSON, math and window functions, and FTS5's ranking helpers.
const ALLOWED_FUNCTIONS: &[&str] = &[
    "abs",
    "avg",
    "bm25",
    "ceil",
    "ceiling",
    "char",
    "coalesce",
    "concat",
    "concat_ws",
    "count",
    "cume_dist",
    "date",
    "datetime",
    "dense_rank",
    "exp",
    "first_value",
    "floor",
    "format",
    "glob",
    "group_concat",
    "hex",
    "highlight",
    "ifnull",
    "iif",
    "instr",
    "json",
    "json_array",
    "json_array_length",
    "json_each",
    "json_extract",
    "json_group_array",
    "json_group_object",
    "json_object",
    "json_quote",
    "json_tree",
    "json_type",
    "json_valid",
    "julianday",
    "lag",
    "last_value",
    "lead",
    "length",
    "like",
    "likelihood",
    "likely",
    "ln",
    "log",
    "log10",
    "lower",
    "ltrim",
    "match",
    "max",
    "min",
    "mod",
    "nth_value",
    "ntile",
    "nullif",
    "octet_length",
    "percent_rank",
    "pi",
    "pow",
    "power",
    "printf",
    "quote",
    "random",
    "rank",
    "replace",
    "round",
    "row_number",
    "rtrim",
    "sign",
    "snippet",
    "sqrt",
    "strftime",
    "string_agg",
    "substr",
    "substring",
    "sum",
    "time",
    "timediff",
    "total",
    "trim",
    "trunc",
    "typeof",
    "unhex",
    "unicode",
    "unixepoch",
    "unlikely",
    "upper",
];

/// The longest string or blob one value may be (16 MiB).
const MAX_LENGTH: c_int = 16 << 20;

/// The authorizer: reading only.
unsafe extern "C" fn authorize(
    _user: *mut c_void,
    action: c_int,
    a1: *const c_char,
    a2: *const c_char,
    _db: *const c_char,
    _trigger: *const c_char,
) -> c_int {
    match action {
        ffi::SQLITE_SELECT | ffi::SQLITE_READ | ffi::SQLITE_RECURSIVE => ffi::SQLITE_OK,
        // For SQLITE_FUNCTION the first argument is NULL and the second the function's name.
        ffi::SQLITE_FUNCTION if !a2.is_null() => {
            // SAFETY: SQLite passes a valid NUL-terminated string for the duration of the call.
            let name = unsafe { CStr::from_ptr(a2) }.to_string_lossy().to_ascii_lowercase();
            if ALLOWED_FUNCTIONS.contains(&name.as_str()) { ffi::SQLITE_OK } else { ffi::SQLITE_DENY }
        }
        _ => {
            let _ = a1;
            ffi::SQLITE_DENY
        }
    }
}

/// Install the guard on a connection that will run untrusted text.
pub(crate) fn install(db: *mut ffi::sqlite3) {
    // SAFETY: `db` is a live connection handle held locked by the caller; the
    // callback is a plain function with no user data, valid for the program's life.
    unsafe {
        ffi::sqlite3_limit(db, ffi::SQLITE_LIMIT_ATTACHED, 0);
        ffi::sqlite3_limit(db, ffi::SQLITE_LIMIT_LENGTH, MAX_LENGTH);
        ffi::sqlite3_set_authorizer(db, Some(authorize), std::ptr::null_mut());
    }
}

/// Check `sql` with the engine itself: it must prepare (the authorizer has
/// its say here) and hold exactly one statement.
pub(crate) fn single_statement(db: *mut ffi::sqlite3, sql: &str) -> Result<(), String> {
    let bytes = sql.as_bytes();
    let len = c_int::try_from(bytes.len()).map_err(|_| "the statement is too long".to_owned())?;
    let mut offset = 0usize;
    let mut statements = 0;
    while offset < bytes.len() {
        let mut stmt: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
        let mut tail: *const c_char = std::ptr::null();
        let rest = &bytes[offset..];
        // SAFETY: `rest` points into `sql`, alive for the call, with its exact length given (no NUL needed);
        // `stmt` and `tail` are out-pointers SQLite writes.
        let rc =
            unsafe { ffi::sqlite3_prepare_v2(db, rest.as_ptr().cast(), len - offset as c_int, &mut stmt, &mut tail) };
        if rc != ffi::SQLITE_OK {
            // SAFETY: `db` is live; sqlite3_errmsg returns a string valid until the next call on it.
            let msg = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) }.to_string_lossy().into_owned();
            // SAFETY: finalizing NULL is a no-op, and a failed prepare leaves `stmt` NULL or valid.
            unsafe { ffi::sqlite3_finalize(stmt) };
            return Err(if msg.contains("not authorized") {
                "refused by the database: only reading the fleet's tables with the allowed functions is permitted \
                 (no ATTACH, PRAGMA, writes or extension functions)"
                    .to_owned()
            } else {
                msg
            });
        }
        let empty = stmt.is_null();
        // SAFETY: `stmt` came from prepare and is finalized once.
        unsafe { ffi::sqlite3_finalize(stmt) };
        if !empty {
            statements += 1;
        }
        if statements > 1 {
            return Err("exactly one statement is allowed, and SQLite reads more than one here".to_owned());
        }
        if tail.is_null() {
            break;
        }
        // SAFETY: SQLite sets `tail` inside `rest` (or one past its end).
        let used = unsafe { tail.offset_from(rest.as_ptr().cast()) };
        let used = usize::try_from(used).map_err(|_| "the statement could not be read".to_owned())?;
        if used == 0 {
            break;
        }
        offset += used;
    }
    if statements == 0 {
        return Err("there is no statement to run".to_owned());
    }
    Ok(())
}
