#!/usr/bin/env python3
"""Make memcmp and memcpy of FerretDB's embedded SQLite use Go's vectorised routines.

FerretDB's SQLite backend is modernc.org/sqlite: SQLite transpiled from C to Go, with musl's libc
transpiled alongside it (modernc.org/libc). On linux/amd64 and linux/arm64 that libc's `memcmp`
compares one byte per loop iteration and its `memcpy` four, in plain Go. SQLite calls both on whole
JSON documents: every `_ferretdb_sjson->'$.field'` index expression copies the stored text to
NUL-terminate it and then looks for it in its JSON parse cache with memcmp. A profile of FerretDB
inserting hookflow's events (8 indexes, ~4 KB documents) put 21 % of its CPU in memcmp and 10 % in
memcpy (README, "Why FerretDB is patched").

This rewrites the two functions in a copy of the module to call `bytes.Compare` and `copy`, which
Go implements in assembly. Semantics kept: memcpy copies n bytes; memcmp returns <0, 0 or >0 by the
first differing byte as unsigned char (C only promises the sign; SQLite only uses the sign).

Usage: patch-sqlite-memops.py <modernc.org/libc module dir>. Fails loudly (exit 1) unless each
function it replaces is exactly the text it was written against (sha256 below): a libc upgrade
that changes them must be looked at again, not patched blindly.
"""
import hashlib
import re
import sys
from pathlib import Path

FILES = ["ccgo_linux_amd64.go", "ccgo_linux_arm64.go"]
# sha256 of each function's source, `func …{` through the closing `}` line, in libc v1.55.3.
EXPECTED = {
    "Xmemcmp": "1eb1f4f6434c708b",
    "Xmemcpy": "0da8928bf791936b",
}
REPLACEMENT = {
    "Xmemcmp": """func Xmemcmp(tls *TLS, vl uintptr, vr uintptr, n Tsize_t) (r1 int32) {
	if __ccgo_strace {
		trc("tls=%v vl=%v vr=%v n=%v, (%v:)", tls, vl, vr, n, origin(2))
		defer func() { trc("-> %v", r1) }()
	}
	return hookflowMemcmp(vl, vr, n) // patched by hookflow: scripts/patch-sqlite-memops.py
}
""",
    "Xmemcpy": """func Xmemcpy(tls *TLS, dest uintptr, src uintptr, n Tsize_t) (r uintptr) {
	if __ccgo_strace {
		trc("tls=%v dest=%v src=%v n=%v, (%v:)", tls, dest, src, n, origin(2))
		defer func() { trc("-> %v", r) }()
	}
	return hookflowMemcpy(dest, src, n) // patched by hookflow: scripts/patch-sqlite-memops.py
}
""",
}
HELPERS = """//go:build linux && (amd64 || arm64)

// Added by hookflow (scripts/patch-sqlite-memops.py): memcmp and memcpy on Go's assembly routines.

package libc

import (
	"bytes"
	"unsafe"
)

func hookflowMemcmp(l, r uintptr, n Tsize_t) int32 {
	if n == 0 {
		return 0
	}
	return int32(bytes.Compare(
		unsafe.Slice((*byte)(unsafe.Pointer(l)), n),
		unsafe.Slice((*byte)(unsafe.Pointer(r)), n),
	))
}

func hookflowMemcpy(dest, src uintptr, n Tsize_t) uintptr {
	if n != 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(dest)), n), unsafe.Slice((*byte)(unsafe.Pointer(src)), n))
	}
	return dest
}
"""


def fail(message: str) -> None:
    print(f"patch-sqlite-memops: {message}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    if len(sys.argv) != 2:
        fail("usage: patch-sqlite-memops.py <modernc.org/libc module dir>")
    module = Path(sys.argv[1])
    for name in FILES:
        path = module / name
        if not path.is_file():
            fail(f"{path} not found")
        source = path.read_text()
        for function, expected in EXPECTED.items():
            matches = list(re.finditer(rf"^func {function}\(.*?^}}\n", source, re.S | re.M))
            if len(matches) != 1:
                fail(f"expected exactly one func {function} in {path}, found {len(matches)}")
            text = matches[0].group(0)
            digest = hashlib.sha256(text.encode()).hexdigest()[:16]
            if digest != expected:
                fail(f"func {function} in {path} is not the one this patch was written for ({digest} != {expected})")
            source = source.replace(text, REPLACEMENT[function])
        path.write_text(source)
    (module / "hookflow_memops.go").write_text(HELPERS)
    print(f"patched memcmp and memcpy in {module}")


if __name__ == "__main__":
    main()
