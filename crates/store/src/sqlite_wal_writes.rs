//! SQLite: the writer's WAL written in one piece a commit. SQLite writes each WAL frame
//! with two `pwrite`s, its 24-byte header and then its page: ~85 system calls for the ~42
//! frames of a group commit, each through the kernel's buffered-write path, on the
//! committer's thread, the serial part of every turn. This VFS shim wraps the platform's
//! VFS and, for WAL files only, gathers writes that follow each other in memory, then
//! hands them to the file as one write. Every other file and every other call is the
//! platform VFS's own.
//!
//! What is gathered is written out before anything else is asked of the file (a read, a
//! sync, its size, a truncation, a file control, closing it) and as soon as a commit's
//! last frame has come (its header carries the database size, which only a commit frame
//! does). So a commit is acknowledged only after its frames were written and synced
//! (`synchronous = FULL` syncs before SQLite answers), and a commit is in the file
//! before SQLite publishes it to other connections in the WAL index, with or without a
//! sync in between. A failed write fails the SQLite call that wrote it out, as the
//! platform's own write would have.
//!
//! Only the writer's connection opens the database through this VFS
//! ([`crate::SqliteStore::connect`]); readers use the platform's VFS on the same file.

use std::{
    ffi::{c_char, c_int, c_void, CStr},
    ptr,
    sync::OnceLock,
};

use rusqlite::ffi;

use crate::StoreError;

/// The shim's name, for `SqliteConnectOptions::vfs`.
pub(crate) const NAME: &str = "gapless-wal";
const NAME_C: &CStr = c"gapless-wal";

/// Most bytes written at once: SQLite's unix VFS writes at most 128 KiB − 1 in one call
/// (`seekAndWriteFd` masks the size with `0x1ffff`, and a larger write fails as "disk
/// full"). A group commit at 8 workers is ~85 KiB (~42 frames of 2 KiB pages); a larger
/// one goes out in pieces of up to this size.
const CAPACITY: usize = 0x1ffff;

/// A WAL frame's header: page number, then the database size in pages, non-zero only on
/// a commit's last frame (<https://www.sqlite.org/fileformat.html#wal_file_format>).
const FRAME_HEADER: usize = 24;

/// The platform's VFS and where our part of a file starts, after the platform's.
struct Shim {
    parent: *mut ffi::sqlite3_vfs,
    offset: usize,
}

// SAFETY: `parent` is SQLite's own VFS object, static and never freed; SQLite's VFS
// methods may be called from any thread.
unsafe impl Send for Shim {}
unsafe impl Sync for Shim {}

static SHIM: OnceLock<Result<Shim, String>> = OnceLock::new();

/// Registers the shim (once) and returns its name.
pub(crate) fn registered() -> Result<&'static str, StoreError> {
    let shim = SHIM.get_or_init(|| {
        // SAFETY: `sqlite3_vfs_find` initializes SQLite and returns its default VFS (or
        // null); the copy is leaked, as SQLite keeps registered VFSes for the process.
        unsafe {
            let parent = ffi::sqlite3_vfs_find(ptr::null());
            if parent.is_null() {
                return Err("SQLite has no default VFS".to_owned());
            }
            let offset = usize::try_from((*parent).szOsFile)
                .map_err(|_| "the default VFS has a negative file size".to_owned())?
                .next_multiple_of(std::mem::align_of::<Gathered>());
            // The platform's methods, all but `xOpen`, with its own `pAppData`: a VFS
            // method may be called with our VFS object, and reads nothing else from it.
            let mut vfs: ffi::sqlite3_vfs = ptr::read(parent);
            vfs.szOsFile = c_int::try_from(offset + std::mem::size_of::<Gathered>())
                .map_err(|_| "the default VFS's files are too large".to_owned())?;
            vfs.zName = NAME_C.as_ptr();
            vfs.pNext = ptr::null_mut();
            vfs.xOpen = Some(open);
            let vfs = Box::leak(Box::new(vfs));
            let rc = ffi::sqlite3_vfs_register(vfs, 0);
            if rc != ffi::SQLITE_OK {
                return Err(format!("registering the VFS {NAME} failed: code {rc}"));
            }
            Ok(Shim { parent, offset })
        }
    });
    match shim {
        Ok(_) => Ok(NAME),
        Err(error) => Err(StoreError::Database(sqlx::Error::Configuration(error.clone().into()))),
    }
}

fn shim() -> &'static Shim {
    match SHIM.get() {
        Some(Ok(shim)) => shim,
        // `open` is only ever called through the registered VFS.
        _ => unreachable!("the WAL shim's VFS is used before it was registered"),
    }
}

/// Our part of a file, after the platform's; `wal` is null for any file but a WAL.
#[repr(C)]
struct Gathered {
    wal: *mut Wal,
}

/// A WAL file's gathered writes.
struct Wal {
    /// The platform's methods for the file.
    methods: *const ffi::sqlite3_io_methods,
    bytes: Vec<u8>,
    /// The file offset of `bytes[0]`.
    start: i64,
    /// A commit frame's header came: the next write is its page, the commit's last.
    commit_page_next: bool,
}

/// Writes SQLite made and writes the file got, for the tests.
#[cfg(test)]
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Counts {
    asked: u64,
    made: u64,
}

#[cfg(test)]
thread_local! {
    static COUNTS: std::cell::Cell<Counts> = const { std::cell::Cell::new(Counts { asked: 0, made: 0 }) };
}

unsafe fn gathered(file: *mut ffi::sqlite3_file) -> *mut Gathered {
    // SAFETY (callers): `file` was opened by `open`, so our part follows the platform's.
    (file as *mut u8).add(shim().offset) as *mut Gathered
}

/// The WAL state of a file whose methods are ours (so it is a WAL file).
unsafe fn wal<'a>(file: *mut ffi::sqlite3_file) -> &'a mut Wal {
    &mut *(*gathered(file)).wal
}

unsafe fn methods<'a>(file: *mut ffi::sqlite3_file) -> &'a ffi::sqlite3_io_methods {
    &*wal(file).methods
}

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let shim = shim();
    gathered(file).write(Gathered { wal: ptr::null_mut() });
    let Some(parent_open) = (*shim.parent).xOpen else {
        return ffi::SQLITE_CANTOPEN;
    };
    let rc = parent_open(shim.parent, name, file, flags, out_flags);
    if rc != ffi::SQLITE_OK || flags & ffi::SQLITE_OPEN_WAL == 0 || (*file).pMethods.is_null() {
        return rc;
    }
    let wal = Box::new(Wal {
        methods: (*file).pMethods,
        bytes: Vec::new(),
        start: 0,
        commit_page_next: false,
    });
    (*gathered(file)).wal = Box::into_raw(wal);
    (*file).pMethods = &WAL_METHODS;
    rc
}

/// Writes out what was gathered. `wal` is `file`'s; the platform's write touches only
/// its own part of the file.
unsafe fn write_out(file: *mut ffi::sqlite3_file, wal: &mut Wal) -> c_int {
    if wal.bytes.is_empty() {
        return ffi::SQLITE_OK;
    }
    let Some(write) = (*wal.methods).xWrite else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    let Ok(amount) = c_int::try_from(wal.bytes.len()) else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    #[cfg(test)]
    COUNTS.with(|c| c.set(Counts { made: c.get().made + 1, ..c.get() }));
    let rc = write(file, wal.bytes.as_ptr() as *const c_void, amount, wal.start);
    // Written or not, it is no longer ours: a failure fails the call that asked for it,
    // and SQLite rolls that transaction back.
    wal.bytes.clear();
    rc
}

/// Writes out what `file` gathered, before another call on it.
unsafe fn written_out(file: *mut ffi::sqlite3_file) -> c_int {
    write_out(file, wal(file))
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    let Ok(len) = usize::try_from(amount) else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    let bytes = std::slice::from_raw_parts(data as *const u8, len);
    let wal = wal(file);
    #[cfg(test)]
    COUNTS.with(|c| c.set(Counts { asked: c.get().asked + 1, ..c.get() }));
    let ends_commit = std::mem::take(&mut wal.commit_page_next);
    if len == FRAME_HEADER && bytes[4..8] != [0; 4] {
        wal.commit_page_next = true;
    }
    let follows = offset == wal.start + wal.bytes.len() as i64;
    if !follows || wal.bytes.len() + len > CAPACITY {
        let rc = write_out(file, wal);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        wal.start = offset;
    }
    wal.bytes.extend_from_slice(bytes);
    if ends_commit {
        return write_out(file, wal);
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    let part = gathered(file);
    let mut wal = Box::from_raw((*part).wal);
    (*part).wal = ptr::null_mut();
    let written = write_out(file, &mut wal);
    let closed = match (*wal.methods).xClose {
        Some(close) => close(file),
        None => ffi::SQLITE_OK,
    };
    if written != ffi::SQLITE_OK {
        written
    } else {
        closed
    }
}

unsafe extern "C" fn read(
    file: *mut ffi::sqlite3_file,
    data: *mut c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    let rc = written_out(file);
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    match methods(file).xRead {
        Some(read) => read(file, data, amount, offset),
        None => ffi::SQLITE_IOERR_READ,
    }
}

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    let rc = written_out(file);
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    match methods(file).xTruncate {
        Some(truncate) => truncate(file, size),
        None => ffi::SQLITE_IOERR_TRUNCATE,
    }
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    let rc = written_out(file);
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    match methods(file).xSync {
        Some(sync) => sync(file, flags),
        None => ffi::SQLITE_IOERR_FSYNC,
    }
}

unsafe extern "C" fn file_size(
    file: *mut ffi::sqlite3_file,
    size: *mut ffi::sqlite3_int64,
) -> c_int {
    let rc = written_out(file);
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    match methods(file).xFileSize {
        Some(file_size) => file_size(file, size),
        None => ffi::SQLITE_IOERR_FSTAT,
    }
}

unsafe extern "C" fn lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    match methods(file).xLock {
        Some(lock) => lock(file, level),
        None => ffi::SQLITE_OK,
    }
}

unsafe extern "C" fn unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    match methods(file).xUnlock {
        Some(unlock) => unlock(file, level),
        None => ffi::SQLITE_OK,
    }
}

unsafe extern "C" fn check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    match methods(file).xCheckReservedLock {
        Some(check) => check(file, out),
        None => {
            *out = 0;
            ffi::SQLITE_OK
        }
    }
}

unsafe extern "C" fn file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    let rc = written_out(file);
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    match methods(file).xFileControl {
        Some(control) => control(file, op, arg),
        None => ffi::SQLITE_NOTFOUND,
    }
}

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    match methods(file).xSectorSize {
        Some(sector_size) => sector_size(file),
        None => 4096,
    }
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    match methods(file).xDeviceCharacteristics {
        Some(characteristics) => characteristics(file),
        None => 0,
    }
}

unsafe extern "C" fn shm_map(
    file: *mut ffi::sqlite3_file,
    region: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    let parent = methods(file);
    match parent.xShmMap.filter(|_| parent.iVersion >= 2) {
        Some(map) => map(file, region, size, extend, out),
        None => ffi::SQLITE_IOERR_SHMMAP,
    }
}

unsafe extern "C" fn shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    let parent = methods(file);
    match parent.xShmLock.filter(|_| parent.iVersion >= 2) {
        Some(lock) => lock(file, offset, n, flags),
        None => ffi::SQLITE_IOERR_SHMLOCK,
    }
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    let parent = methods(file);
    if let Some(barrier) = parent.xShmBarrier.filter(|_| parent.iVersion >= 2) {
        barrier(file);
    }
}

unsafe extern "C" fn shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    let parent = methods(file);
    match parent.xShmUnmap.filter(|_| parent.iVersion >= 2) {
        Some(unmap) => unmap(file, delete),
        None => ffi::SQLITE_OK,
    }
}

unsafe extern "C" fn fetch(
    file: *mut ffi::sqlite3_file,
    offset: ffi::sqlite3_int64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    let rc = written_out(file);
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    let parent = methods(file);
    match parent.xFetch.filter(|_| parent.iVersion >= 3) {
        Some(fetch) => fetch(file, offset, amount, out),
        None => {
            *out = ptr::null_mut();
            ffi::SQLITE_OK
        }
    }
}

unsafe extern "C" fn unfetch(
    file: *mut ffi::sqlite3_file,
    offset: ffi::sqlite3_int64,
    page: *mut c_void,
) -> c_int {
    let parent = methods(file);
    match parent.xUnfetch.filter(|_| parent.iVersion >= 3) {
        Some(unfetch) => unfetch(file, offset, page),
        None => ffi::SQLITE_OK,
    }
}

static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, OpenFlags};

    use super::*;

    fn writer(path: &std::path::Path, synchronous: &str) -> Connection {
        let name = registered().expect("the shim registers");
        let db = Connection::open_with_flags_and_vfs(path, OpenFlags::default(), name)
            .expect("opens through the shim");
        db.pragma_update(None, "journal_mode", "wal").unwrap();
        db.pragma_update(None, "synchronous", synchronous).unwrap();
        db.execute_batch("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)")
            .unwrap();
        db
    }

    fn counts() -> Counts {
        COUNTS.with(|c| c.get())
    }

    /// The point of the shim: a commit of many pages reaches the file in one write,
    /// where SQLite made two a frame.
    #[test]
    fn a_commit_reaches_the_wal_in_one_write() {
        let dir = tempfile::tempdir().unwrap();
        let db = writer(&dir.path().join("one.db"), "full");
        let before = counts();
        let tx = db.unchecked_transaction().unwrap();
        for i in 0..200 {
            tx.execute("INSERT INTO t (id, body) VALUES (?1, ?2)", (i, "x".repeat(500))).unwrap();
        }
        tx.commit().unwrap();
        let after = counts();
        let (asked, made) = (after.asked - before.asked, after.made - before.made);
        assert!(asked >= 40, "SQLite wrote {asked} times: two a frame, a frame a page");
        assert_eq!(made, 1, "{asked} writes reached the file as {made}");

        // A commit larger than one write takes: in pieces, each within what the
        // platform's VFS writes at once, and all of it there.
        let before = counts();
        let tx = db.unchecked_transaction().unwrap();
        for i in 200..1_200 {
            tx.execute("INSERT INTO t (id, body) VALUES (?1, ?2)", (i, "x".repeat(500))).unwrap();
        }
        tx.commit().expect("a commit of ~600 KiB");
        let after = counts();
        let (asked, made) = (after.asked - before.asked, after.made - before.made);
        assert!((5..asked / 20).contains(&made), "{asked} writes reached the file as {made}");
        drop(db);
        let back = Connection::open(dir.path().join("one.db")).unwrap();
        let rows: i64 = back.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 1_200);
    }

    /// Without a sync between a commit and the WAL index that publishes it
    /// (`synchronous = NORMAL`), a commit's frames must be in the file before another
    /// connection reads them: every commit is seen at once, whole.
    #[test]
    fn another_connection_sees_each_commit_at_once_without_a_sync() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("normal.db");
        let db = writer(&path, "normal");
        let reader = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        for i in 0..100_i64 {
            let tx = db.unchecked_transaction().unwrap();
            tx.execute("INSERT INTO t (id, body) VALUES (?1, ?2)", (i, "y".repeat(300))).unwrap();
            tx.execute("UPDATE t SET body = body || 'z' WHERE id = ?1", [i / 2]).unwrap();
            tx.commit().unwrap();
            let (count, last): (i64, i64) = reader
                .query_row("SELECT count(*), max(id) FROM t", [], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap();
            assert_eq!((count, last), (i + 1, i), "commit {i} not seen whole by a reader");
        }
        let check: String = reader.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
    }

    /// What was committed through the shim is there for the platform's own VFS: read
    /// from the WAL while the writer is open, and from the file after it closed.
    #[test]
    fn the_file_reads_back_without_the_shim() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("back.db");
        let sums = |db: &Connection| -> (i64, i64) {
            db.query_row("SELECT count(*), sum(id) FROM t", [], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
        };
        let db = writer(&path, "full");
        let plain = Connection::open(&path).unwrap();
        for i in 0..50_i64 {
            db.execute("INSERT INTO t (id, body) VALUES (?1, ?2)", (i, i.to_string())).unwrap();
        }
        // A checkpoint, then a WAL that starts again from its first frame.
        db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
        for i in 50..80_i64 {
            db.execute("INSERT INTO t (id, body) VALUES (?1, ?2)", (i, i.to_string())).unwrap();
        }
        let all = (80, (0..80).sum::<i64>());
        assert_eq!(sums(&plain), all, "read from the WAL through the platform's VFS");
        drop(db);
        drop(plain);
        let db = Connection::open(&path).unwrap();
        assert_eq!(sums(&db), all, "read back after the writer closed");
        let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
    }
}
