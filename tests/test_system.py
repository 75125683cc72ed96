"""sys.* syscalls, checked against /proc, the standard library and the tools ps/who."""

from __future__ import annotations

import getpass
import os
import platform
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from syscalls.validate import validate
from tests.syscall_support import REG, ok


def meminfo() -> dict[str, int]:
    out = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, value = line.split(":", 1)
        out[key] = int(value.split()[0])
    return out


linux = pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="needs Linux /proc")


@linux
def test_memory_matches_proc_meminfo(tmp_path: Path) -> None:
    data = ok("sys.memory", {}, tmp_path)
    info = meminfo()
    assert data["total_bytes"] == info["MemTotal"] * 1024
    assert data["swap_total_bytes"] == info["SwapTotal"] * 1024
    assert 0 < data["available_bytes"] <= data["total_bytes"]
    assert 0 <= data["used_bytes"] <= data["total_bytes"]
    assert 0.0 <= data["percent"] <= 100.0
    assert data["swap_used_bytes"] + data["swap_free_bytes"] == data["swap_total_bytes"]


def test_cpu_counts_and_ranges(tmp_path: Path) -> None:
    data = ok("sys.cpu", {"sample_ms": 50}, tmp_path)
    assert data["logical_count"] == os.cpu_count()
    assert len(data["cpus"]) == os.cpu_count()
    assert [c["cpu"] for c in data["cpus"]] == list(range(len(data["cpus"])))
    assert all(0.0 <= c["percent"] <= 100.0 for c in data["cpus"])
    assert data["physical_count"] is None or 1 <= data["physical_count"] <= data["logical_count"]
    assert data["sample_ms"] == 50
    assert min(data["load_avg_1m"], data["load_avg_5m"], data["load_avg_15m"]) >= 0.0
    assert ok("sys.cpu", {"sample_ms": 0}, tmp_path)["sample_ms"] == 0


@linux
def test_cpu_model_from_cpuinfo(tmp_path: Path) -> None:
    models = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
              if line.startswith("model name")]
    if not models:
        pytest.skip("this /proc/cpuinfo has no model name")
    assert ok("sys.cpu", {"sample_ms": 0}, tmp_path)["model"] == models[0]


def test_info_matches_host(tmp_path: Path) -> None:
    data = ok("sys.info", {}, tmp_path)
    assert data["hostname"] == socket.gethostname()
    assert data["kernel_release"] == platform.release()
    assert data["os"] == platform.system()
    assert data["user"] == getpass.getuser()
    assert data["cwd"] == str(tmp_path)
    assert data["python"] == platform.python_version()
    assert data["uptime_s"] > 0


@linux
def test_info_boot_time_and_uptime_match_proc(tmp_path: Path) -> None:
    data = ok("sys.info", {}, tmp_path)
    btime = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                 if line.startswith("btime"))
    assert data["boot_time"] == pytest.approx(btime, abs=1)
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    # Same quantity from two sources read a moment apart; the bound only catches unit mistakes.
    assert data["uptime_s"] == pytest.approx(uptime, abs=60)


def test_disks_root_matches_statvfs(tmp_path: Path) -> None:
    data = ok("sys.disks", {}, tmp_path)
    by_mount = {d["mountpoint"]: d for d in data["disks"]}
    if "/" not in by_mount:
        pytest.skip("the root file system is a pseudo file system here")
    st = os.statvfs("/")
    root = by_mount["/"]
    assert root["total_bytes"] == st.f_blocks * st.f_frsize
    assert root["used_bytes"] + root["free_bytes"] <= root["total_bytes"]
    assert not any(d["fstype"] in ("proc", "sysfs") for d in data["disks"])
    everything = ok("sys.disks", {"all": True}, tmp_path)["disks"]
    assert len(everything) >= len(data["disks"])
    if Path("/proc/self").exists():
        assert "/proc" in {d["mountpoint"] for d in everything}


def test_net_lists_loopback_and_our_listener(tmp_path: Path) -> None:
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        data = ok("sys.net", {}, tmp_path)
        mine = [c for c in data["connections"] if c["laddr"] == f"127.0.0.1:{port}"]
        assert [(c["pid"], c["status"], c["proto"]) for c in mine] == [(os.getpid(), "LISTEN", "tcp")]
        assert all(c["status"] == "LISTEN" for c in data["connections"])
    lo = [i for i in data["interfaces"] if any(a["address"] == "127.0.0.1" for a in i["addresses"])]
    assert len(lo) == 1 and lo[0]["is_up"] is True
    if Path("/sys/class/net").is_dir():
        assert set(os.listdir("/sys/class/net")) == {i["name"] for i in data["interfaces"]}
    assert ok("sys.net", {"connections": "none"}, tmp_path)["connections"] == []


def test_users_match_who(tmp_path: Path) -> None:
    data = ok("sys.users", {}, tmp_path)
    who = shutil.which("who")
    if who is None:
        pytest.skip("no `who` here")
    out = subprocess.run([who], capture_output=True, text=True, check=True).stdout
    assert sorted(u["name"] for u in data["users"]) == sorted(line.split()[0] for line in out.splitlines())


def test_sensors_honest_about_availability(tmp_path: Path) -> None:
    data = ok("sys.sensors", {}, tmp_path)
    assert data["available"] == bool(data["temperatures"] or data["fans"] or data["battery"])
    hwmon = Path("/sys/class/hwmon")
    has_temp_inputs = hwmon.is_dir() and any(hwmon.glob("*/temp*_input"))
    if not has_temp_inputs:
        assert data["temperatures"] == []
    for t in data["temperatures"]:
        assert -50.0 < t["current_c"] < 150.0


def test_specs_risks_capabilities_examples() -> None:
    for name in ("sys.info", "sys.cpu", "sys.memory", "sys.disks", "sys.net", "sys.users", "sys.sensors"):
        spec = REG.get(name)
        assert spec.risk.value == "read"
        assert spec.capability == "sys.read"  # sys.net too: listing interfaces and sockets opens no connection
        assert 3 <= len(spec.examples) <= 6
        for ex in spec.examples:
            validate({"call": name, "args": ex.args}, REG)
