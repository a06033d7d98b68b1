"""A file of any size is streamed: the loader's memory stays flat (the bench measures it on a million rows; here
a file of 400 MB, twice the peak memory allowed, in a process of its own so that its peak memory can be
read)."""

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import hashlib, os, sys
    import django
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
    django.setup()
    from feed.reader import Source
    from feed.messages import Structural

    path, mode = sys.argv[1], sys.argv[2]
    block = ("P00000000001|P|测试|ID|330106198001010016|111\\n" * 20000).encode("gb18030")
    sha = hashlib.sha256()
    with open(path, "wb") as f:
        header = b"cust_no|cust_type|name|id_type|id_no|branch_code\\n"
        f.write(header); sha.update(header)
        written = len(header)
        filler = block if mode == "rows" else b"x" * len(block)
        while written < 400 * 1024**2:
            f.write(filler); sha.update(filler); written += len(filler)
    with open(path + ".ok", "w") as f:
        f.write(f"{written // len(block) * 20000 if mode == 'rows' else 0}|{sha.hexdigest()}")
    rows = -1
    src = Source(path, kind="CUST", encoding="gb18030", control=True)
    try:
        rows = sum(1 for _ in src.rows())
        src.finish()
        outcome = "ok"
    except Structural as e:
        outcome = e.code
    # The peak of this process's own memory (VmHWM): ru_maxrss would also count the forked copy of the test
    # runner that this process was before its exec.
    with open("/proc/self/status") as status:
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(outcome, rows, peak_kb // 1024)
    """
)


@pytest.mark.slow
@pytest.mark.full  # make test-full
@pytest.mark.parametrize("mode", ["rows", "one_line"])
def test_a_400_mb_file_is_read_with_flat_memory(mode, tmp_path):
    path = tmp_path / "CUST_20261130.txt"
    try:
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(path), mode], capture_output=True, text=True, timeout=600, check=True
        )
        assert path.stat().st_size >= 400 * 1024**2
    finally:
        path.unlink(missing_ok=True)  # 400 MB: not left for pytest's kept temporary folders
    outcome, rows, peak_mb = result.stdout.split()
    if mode == "rows":
        assert outcome == "ok" and int(rows) > 8_000_000  # about 9.1 million lines in 400 MB
    else:
        assert outcome == "line_too_long"  # no line break in 400 MB: refused at the first 64 KB
    assert int(peak_mb) < 200, f"peak memory {peak_mb} MB while reading a 400 MB file"
