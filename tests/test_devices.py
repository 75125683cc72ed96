"""dev.* syscalls against this machine's sysfs and mount table, and small sysfs trees in tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syscalls.builtin import devices
from syscalls.validate import validate
from tests.syscall_support import REG, ok


def proc_mounts() -> set[str]:
    points = set()
    for line in Path("/proc/self/mounts").read_text().splitlines():
        points.add(devices._unescape(line.split()[1]))
    return points


needs_sysfs = pytest.mark.skipif(not Path("/sys/block").is_dir(), reason="needs Linux sysfs")


@needs_sysfs
def test_block_names_and_sizes_match_sysfs(tmp_path: Path) -> None:
    data = ok("dev.block", {}, tmp_path)
    assert [d["name"] for d in data["devices"]] == sorted(os.listdir("/sys/block"))
    for d in data["devices"]:
        sectors = int(Path(f"/sys/block/{d['name']}/size").read_text())
        assert d["size_bytes"] == sectors * 512
        for part in d["partitions"]:
            assert Path(f"/sys/block/{d['name']}/{part['name']}/partition").exists()


@needs_sysfs
def test_block_device_of_root_lists_slash(tmp_path: Path) -> None:
    st = os.stat("/")
    devnum = f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
    owner = None
    for disk in os.listdir("/sys/block"):
        base = Path("/sys/block", disk)
        if (base / "dev").read_text().strip() == devnum:
            owner = (disk, None)
        for sub in os.listdir(base):
            if (base / sub / "partition").exists() and (base / sub / "dev").read_text().strip() == devnum:
                owner = (disk, sub)
    if owner is None:
        pytest.skip("the root file system is not on a block device here (overlay, tmpfs)")
    by_name = {d["name"]: d for d in ok("dev.block", {}, tmp_path)["devices"]}
    disk, part = owner
    if part is None:
        assert "/" in by_name[disk]["mountpoints"]
    else:
        (p,) = [p for p in by_name[disk]["partitions"] if p["name"] == part]
        assert "/" in p["mountpoints"]


def test_mounts_match_proc_and_contain_root(tmp_path: Path) -> None:
    rows = ok("dev.mounts", {}, tmp_path)["mounts"]
    points = {r["mountpoint"] for r in rows}
    assert "/" in points
    if Path("/proc/self/mounts").exists():
        assert points == proc_mounts()
    root = [r for r in rows if r["mountpoint"] == "/"][-1]
    only = ok("dev.mounts", {"fstype": root["fstype"]}, tmp_path)["mounts"]
    assert only and all(r["fstype"] == root["fstype"] for r in only)
    assert "/" in {r["mountpoint"] for r in only}


def test_mountinfo_parser_unescapes_and_reads_flags(tmp_path: Path) -> None:
    info = tmp_path / "mountinfo"
    info.write_text(
        "36 35 98:0 / /mnt/my\\040disk rw,noatime master:1 - ext3 /dev/sdb1 rw,errors=continue\n"
        "37 35 0:5 / /ro ro,nosuid - tmpfs tmpfs rw,size=10k\n"
        "garbage line\n"
    )
    rows = devices.read_mountinfo(info)
    assert rows is not None and len(rows) == 2
    first, second = rows
    assert first["mountpoint"] == "/mnt/my disk" and first["device"] == "/dev/sdb1"
    assert first["fstype"] == "ext3" and first["major_minor"] == "98:0"
    assert first["options"] == "rw,noatime,errors=continue" and first["read_only"] is False
    assert second["read_only"] is True
    assert devices.read_mountinfo(tmp_path / "absent") is None


def test_pci_matches_sysfs(tmp_path: Path) -> None:
    data = ok("dev.pci", {}, tmp_path)
    root = Path("/sys/bus/pci/devices")
    if not root.is_dir():
        assert data == {"devices": [], "available": False, "truncated": False}
        return
    assert data["available"] is True
    assert [d["slot"] for d in data["devices"]] == sorted(os.listdir(root))
    for d in data["devices"]:
        assert "0x" + d["vendor_id"] == (root / d["slot"] / "vendor").read_text().strip()
        assert int(d["class"], 16) == int((root / d["slot"] / "class").read_text(), 16)


def test_usb_matches_sysfs_or_reports_absent(tmp_path: Path) -> None:
    data = ok("dev.usb", {}, tmp_path)
    root = Path("/sys/bus/usb/devices")
    if not root.is_dir():
        assert data == {"devices": [], "available": False, "truncated": False}
        return
    expected = sorted(e for e in os.listdir(root) if (root / e / "idVendor").exists())
    assert [d["bus_id"] for d in data["devices"]] == expected


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def test_usb_reads_a_sysfs_tree_defensively(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A small sysfs-shaped tree: this machine may have no USB bus to read.
    root = tmp_path / "usb"
    hub = root / "1-1"
    for name, value in [("idVendor", "05e3"), ("idProduct", "0608"), ("bDeviceClass", "09"),
                        ("busnum", "1"), ("devnum", "2"), ("speed", "480"), ("product", "USB2.0 Hub")]:
        _write(hub / name, value)
    _write(root / "1-2" / "idVendor", "abcd")  # a device that tells nothing else
    (root / "1-1:1.0").mkdir()  # an interface: not a device
    monkeypatch.setattr(devices, "SYS_USB", root)
    rows = ok("dev.usb", {}, tmp_path)["devices"]
    assert [r["bus_id"] for r in rows] == ["1-1", "1-2"]
    first, second = rows
    assert (first["vendor_id"], first["product_id"], first["class_name"], first["speed_mbps"]) == (
        "05e3", "0608", "hub", 480.0)
    assert first["product"] == "USB2.0 Hub" and first["manufacturer"] is None
    assert second["product_id"] is None and second["class"] is None and second["bus"] is None


def test_block_reads_a_sysfs_tree_defensively(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "block"
    _write(root / "sdz" / "size", "2048")
    _write(root / "sdz" / "removable", "1")
    _write(root / "sdz" / "device" / "model", "Flash Disk  ")
    _write(root / "sdz" / "sdz1" / "partition", "1")
    _write(root / "sdz" / "sdz1" / "size", "1024")
    (root / "odd").mkdir()  # no attributes at all
    monkeypatch.setattr(devices, "SYS_BLOCK", root)
    rows = ok("dev.block", {}, tmp_path)["devices"]
    assert [r["name"] for r in rows] == ["odd", "sdz"]
    odd, sdz = rows
    assert odd["size_bytes"] is None and odd["removable"] is None and odd["rotational"] is None
    assert sdz["size_bytes"] == 2048 * 512 and sdz["removable"] is True and sdz["model"] == "Flash Disk"
    assert sdz["partitions"] == [{"name": "sdz1", "size_bytes": 1024 * 512, "mountpoints": []}]
    removable = ok("dev.block", {"removable_only": True}, tmp_path)["devices"]
    assert [r["name"] for r in removable] == ["sdz"]


def test_specs_risks_and_examples() -> None:
    for name in ("dev.block", "dev.usb", "dev.pci", "dev.mounts"):
        spec = REG.get(name)
        assert spec.risk.value == "read" and spec.capability == "dev.read"
        assert 3 <= len(spec.examples) <= 6
        for ex in spec.examples:
            validate({"call": name, "args": ex.args}, REG)
