#!/usr/bin/env python3
"""Instruments a copy of modernc.org/sqlite (FerretDB's SQLite) for diagnosis, never for use.

Adds two probes and nothing else:
  - SQLite's default busy handler (a writer found the database locked by another writer and
    sleeps 1, 2, 5, 10, ... 100 ms before trying again): every call and every millisecond slept are
    counted; `busy.log` gets `<unix second> <calls so far> <microseconds slept so far>` each second;
  - WAL checkpoints: `checkpoint.log` gets `<unix ms at start> <duration ms>` for each one.
Both files go to $FERRETDB_PROBE_DIR (default /tmp) of the FerretDB process.

Usage: instrument-sqlite.py <modernc.org/sqlite module dir>. Used by ferretdb-sqlite-probe.sh.
"""
import glob
import sys
from pathlib import Path

module = Path(sys.argv[1])
files = glob.glob(str(module / "lib" / "sqlite_linux_*.go"))
if not files:
    sys.exit(f"instrument-sqlite: no lib/sqlite_linux_*.go in {module}")
SLEEP = "\t_sqlite3OsSleep(tls, (*Tsqlite3)(unsafe.Pointer(db)).FpVfs, delay*int32(1000))\n"
CHECKPOINT = (
    "func _sqlite3WalCheckpoint(tls *libc.TLS, pWal uintptr, db uintptr, eMode int32, xBusy uintptr, "
    "pBusyArg uintptr, sync_flags int32, nBuf int32, zBuf uintptr, pnLog uintptr, pnCkpt uintptr) (r int32) {"
)
for name in files:
    source = Path(name).read_text()
    for needle in (SLEEP, CHECKPOINT):
        if source.count(needle) != 1:
            sys.exit(f"instrument-sqlite: expected one {needle.strip()[:40]}... in {name}")
    source = source.replace(SLEEP, "\tprobeBusy(delay)\n" + SLEEP)
    source = source.replace(CHECKPOINT, CHECKPOINT.replace("_sqlite3WalCheckpoint(", "_sqlite3WalCheckpointUnprobed("))
    source += (
        "\n" + CHECKPOINT + "\n\tbegan := probeNow()\n"
        "\tr = _sqlite3WalCheckpointUnprobed(tls, pWal, db, eMode, xBusy, pBusyArg, sync_flags, nBuf, zBuf, pnLog, pnCkpt)\n"
        "\tprobeCheckpoint(began)\n\treturn r\n}\n"
    )
    Path(name).write_text(source)
(module / "lib" / "hookflow_probe.go").write_text('''package sqlite3

// Added by bench/diagnostics/instrument-sqlite.py: busy-handler and checkpoint probes.

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

var busyCalls, busySleptUs atomic.Int64
var probeMu sync.Mutex
var checkpointLog *os.File

func probeDir() string {
	if dir := os.Getenv("FERRETDB_PROBE_DIR"); dir != "" {
		return dir
	}
	return os.TempDir()
}

func init() {
	go func() {
		f, err := os.OpenFile(filepath.Join(probeDir(), "busy.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return
		}
		for range time.Tick(time.Second) {
			fmt.Fprintf(f, "%d %d %d\\n", time.Now().Unix(), busyCalls.Load(), busySleptUs.Load())
		}
	}()
}

func probeBusy(delayMs int32) {
	busyCalls.Add(1)
	busySleptUs.Add(int64(delayMs) * 1000)
}

func probeNow() time.Time { return time.Now() }

func probeCheckpoint(began time.Time) {
	took := time.Since(began)
	probeMu.Lock()
	defer probeMu.Unlock()
	if checkpointLog == nil {
		checkpointLog, _ = os.OpenFile(filepath.Join(probeDir(), "checkpoint.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	}
	if checkpointLog != nil {
		fmt.Fprintf(checkpointLog, "%d %.3f\\n", began.UnixMilli(), took.Seconds()*1000)
	}
}
''')
print(f"instrumented {module}")
