"""Device syscalls: block devices, USB and PCI buses, mounts.

Read from sysfs (``/sys/block``, ``/sys/bus/usb/devices``, ``/sys/bus/pci/devices``)
and ``/proc/self/mountinfo``, with psutil where sysfs does not exist.  Sysfs
is read defensively: a missing or unreadable attribute is normal and becomes
``null``; a missing bus is an empty table with ``available: false``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from syscalls import schema as S
from syscalls.mounts import MOUNTINFO
from syscalls.mounts import unescape as _unescape
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry

SYS_BLOCK = Path("/sys/block")
SYS_USB = Path("/sys/bus/usb/devices")
SYS_PCI = Path("/sys/bus/pci/devices")

# PCI base classes (the first byte of the class code), from the PCI specification.
_PCI_CLASSES = {
    0x00: "unclassified", 0x01: "mass storage controller", 0x02: "network controller",
    0x03: "display controller", 0x04: "multimedia controller", 0x05: "memory controller",
    0x06: "bridge", 0x07: "communication controller", 0x08: "system peripheral",
    0x09: "input device controller", 0x0A: "docking station", 0x0B: "processor",
    0x0C: "serial bus controller", 0x0D: "wireless controller", 0x0E: "intelligent controller",
    0x0F: "satellite communication controller", 0x10: "encryption controller",
    0x11: "signal processing controller", 0x12: "processing accelerator",
    0x13: "non-essential instrumentation", 0x40: "co-processor", 0xFF: "unassigned",
}
_USB_CLASSES = {
    0x00: "per-interface", 0x01: "audio", 0x02: "communications", 0x03: "HID", 0x05: "physical",
    0x06: "image", 0x07: "printer", 0x08: "mass storage", 0x09: "hub", 0x0A: "CDC data",
    0x0B: "smart card", 0x0D: "content security", 0x0E: "video", 0x0F: "personal healthcare",
    0x10: "audio/video", 0x11: "billboard", 0xDC: "diagnostic", 0xE0: "wireless controller",
    0xEF: "miscellaneous", 0xFE: "application specific", 0xFF: "vendor specific",
}


def _read(path: Path) -> str | None:
    """A sysfs attribute's text, or None when it is missing or unreadable (both are normal)."""
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def _read_int(path: Path, base: int = 10) -> int | None:
    text = _read(path)
    if text is None:
        return None
    try:
        return int(text, base)
    except ValueError:
        return None


def _listdir(path: Path) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def read_mountinfo(path: Path = MOUNTINFO) -> list[JSONDict] | None:
    """Parsed mountinfo lines, or None when the file does not exist (not Linux)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    rows: list[JSONDict] = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        a = left.split()
        b = right.split()
        if len(a) < 6 or len(b) < 2:
            continue
        opts = a[5]
        rows.append({
            "device": _unescape(b[1]),
            "mountpoint": _unescape(a[4]),
            "fstype": b[0],
            "options": ",".join(dict.fromkeys(opts.split(",") + (b[2].split(",") if len(b) > 2 else []))),
            "read_only": "ro" in opts.split(","),
            "major_minor": a[2],
            "root": _unescape(a[3]),
            "mount_id": int(a[0]),
            "parent_id": int(a[1]),
        })
    return rows


def _mounts() -> list[JSONDict]:
    rows = read_mountinfo()
    if rows is not None:
        return rows
    out: list[JSONDict] = []
    for i, p in enumerate(psutil.disk_partitions(all=True)):
        out.append({
            "device": p.device, "mountpoint": p.mountpoint, "fstype": p.fstype, "options": p.opts,
            "read_only": "ro" in p.opts.split(","), "major_minor": None, "root": "/",
            "mount_id": i, "parent_id": None,
        })
    return out


# --------------------------------------------------------------------------- dev.block

def dev_block(ctx: CallContext, args: JSONDict) -> JSONDict:
    removable_only = bool(args.get("removable_only", False))
    mounts = _mounts()
    by_devnum: dict[str, list[str]] = {}
    by_path: dict[str, list[str]] = {}
    for m in mounts:
        if m["major_minor"]:
            by_devnum.setdefault(m["major_minor"], []).append(m["mountpoint"])
        by_path.setdefault(m["device"], []).append(m["mountpoint"])

    def mounted(sysdir: Path, name: str) -> list[str]:
        dev = _read(sysdir / "dev")
        points = list(by_devnum.get(dev, [])) if dev else []
        points += [p for p in by_path.get(f"/dev/{name}", []) if p not in points]
        return sorted(points)

    rows: list[JSONDict] = []
    for name in _listdir(SYS_BLOCK):
        base = SYS_BLOCK / name
        removable = _read_int(base / "removable")
        if removable_only and removable != 1:
            continue
        sectors = _read_int(base / "size")
        parts: list[JSONDict] = []
        for sub in _listdir(base):
            if sub.startswith(name) and (base / sub / "partition").exists():
                psec = _read_int(base / sub / "size")
                parts.append({"name": sub, "size_bytes": psec * 512 if psec is not None else None,
                              "mountpoints": mounted(base / sub, sub)})
        model = _read(base / "device" / "model")
        vendor = _read(base / "device" / "vendor")
        rows.append({
            "name": name,
            "path": f"/dev/{name}",
            "size_bytes": sectors * 512 if sectors is not None else None,  # sysfs counts 512-byte sectors
            "model": model or None,
            "vendor": vendor or None,
            "serial": _read(base / "device" / "serial") or None,
            "removable": removable == 1 if removable is not None else None,
            "rotational": (_read_int(base / "queue" / "rotational") == 1
                           if (base / "queue" / "rotational").exists() else None),
            "read_only": _read_int(base / "ro") == 1 if (base / "ro").exists() else None,
            "partitions": parts,
            "mountpoints": mounted(base, name),
        })
    return {"devices": rows, "available": SYS_BLOCK.is_dir(), "truncated": False}


# --------------------------------------------------------------------------- dev.usb

def dev_usb(ctx: CallContext, args: JSONDict) -> JSONDict:
    rows: list[JSONDict] = []
    for entry in _listdir(SYS_USB):
        base = SYS_USB / entry
        vid = _read(base / "idVendor")
        if vid is None:  # an interface, not a device
            continue
        cls = _read_int(base / "bDeviceClass", 16)
        speed = _read(base / "speed")
        try:
            speed_mbps: float | None = float(speed) if speed else None
        except ValueError:
            speed_mbps = None
        rows.append({
            "bus_id": entry,
            "bus": _read_int(base / "busnum"),
            "device": _read_int(base / "devnum"),
            "vendor_id": vid,
            "product_id": _read(base / "idProduct"),
            "manufacturer": _read(base / "manufacturer"),
            "product": _read(base / "product"),
            "serial": _read(base / "serial"),
            "class": f"{cls:02x}" if cls is not None else None,
            "class_name": _USB_CLASSES.get(cls) if cls is not None else None,
            "speed_mbps": speed_mbps,
        })
    return {"devices": rows, "available": SYS_USB.is_dir(), "truncated": False}


# --------------------------------------------------------------------------- dev.pci

def dev_pci(ctx: CallContext, args: JSONDict) -> JSONDict:
    rows: list[JSONDict] = []
    for slot in _listdir(SYS_PCI):
        base = SYS_PCI / slot
        cls = _read_int(base / "class", 16)
        driver: str | None = None
        try:
            driver = os.path.basename(os.readlink(base / "driver"))
        except OSError:
            pass

        def hexid(attr: str, b: Path = base) -> str | None:
            v = _read(b / attr)
            return v[2:] if v and v.startswith("0x") else v

        rows.append({
            "slot": slot,
            "vendor_id": hexid("vendor"),
            "device_id": hexid("device"),
            "subsystem_vendor_id": hexid("subsystem_vendor"),
            "subsystem_device_id": hexid("subsystem_device"),
            "class": f"{cls:06x}" if cls is not None else None,
            "class_name": _PCI_CLASSES.get(cls >> 16) if cls is not None else None,
            "revision": hexid("revision"),
            "driver": driver,
            "label": _read(base / "label"),
        })
    return {"devices": rows, "available": SYS_PCI.is_dir(), "truncated": False}


# --------------------------------------------------------------------------- dev.mounts

def dev_mounts(ctx: CallContext, args: JSONDict) -> JSONDict:
    fstype = args.get("fstype")
    rows = []
    for m in _mounts():
        if fstype and m["fstype"] != fstype:
            continue
        rows.append({k: m[k] for k in ("device", "mountpoint", "fstype", "options", "read_only")})
    return {"mounts": rows, "truncated": False}


# --------------------------------------------------------------------------- registration

_NSTR = S.nullable("string")
_NINT = S.nullable("integer")
_NBOOL = S.nullable("boolean")


def register(registry: Registry) -> None:
    registry.syscall(
        "dev.block",
        "List block devices (disks, partitions, loop devices) with size, model, removable flag and mounts.",
        args=S.obj({"removable_only": S.boolean("only removable devices (USB sticks, card readers)")}),
        result=S.table(S.obj({
            "name": S.string(), "path": S.string(), "size_bytes": _NINT, "model": _NSTR, "vendor": _NSTR,
            "serial": _NSTR, "removable": _NBOOL, "rotational": _NBOOL, "read_only": _NBOOL,
            "partitions": S.array(S.obj({"name": S.string(), "size_bytes": _NINT,
                                         "mountpoints": S.array(S.string())}), max_items=4096),
            "mountpoints": S.array(S.string()),
        }, required=["name", "size_bytes", "partitions", "mountpoints"]), "devices",
            {"available": S.boolean()}),
        capability="dev.read",
        risk=Risk.READ,
        view=View("table", "devices",
                  ("name", "size_bytes", "model", "removable", "rotational", "partitions", "mountpoints")),
        examples=[
            ("list the disks", {}),
            ("what drives are attached", {}),
            ("is my usb stick detected", {"removable_only": True}),
            ("show the partitions on each disk", {}),
        ],
    )(dev_block)

    registry.syscall(
        "dev.usb",
        "List USB devices with vendor and product ids, names and class.",
        args=S.obj({}),
        result=S.table(S.obj({
            "bus_id": S.string(), "bus": _NINT, "device": _NINT, "vendor_id": S.string(),
            "product_id": _NSTR, "manufacturer": _NSTR, "product": _NSTR, "serial": _NSTR,
            "class": _NSTR, "class_name": _NSTR, "speed_mbps": S.nullable("number"),
        }, required=["bus_id", "vendor_id"]), "devices", {"available": S.boolean()}),
        capability="dev.read",
        risk=Risk.READ,
        view=View("table", "devices", ("bus_id", "vendor_id", "product_id", "manufacturer", "product",
                                       "class_name")),
        examples=[
            ("show usb devices", {}),
            ("what is plugged into the usb ports", {}),
            ("is my webcam connected", {}),
        ],
    )(dev_usb)

    registry.syscall(
        "dev.pci",
        "List PCI devices (graphics, network, storage controllers) with ids, class and driver.",
        args=S.obj({}),
        result=S.table(S.obj({
            "slot": S.string(), "vendor_id": _NSTR, "device_id": _NSTR, "subsystem_vendor_id": _NSTR,
            "subsystem_device_id": _NSTR, "class": _NSTR, "class_name": _NSTR, "revision": _NSTR,
            "driver": _NSTR, "label": _NSTR,
        }, required=["slot"]), "devices", {"available": S.boolean()}),
        capability="dev.read",
        risk=Risk.READ,
        view=View("table", "devices", ("slot", "class_name", "vendor_id", "device_id", "driver")),
        examples=[
            ("list pci devices", {}),
            ("what graphics card do I have", {}),
            ("which network controller is installed", {}),
        ],
    )(dev_pci)

    registry.syscall(
        "dev.mounts",
        "List mounted file systems: device, mount point, type and options.",
        args=S.obj({"fstype": S.string("only this file system type, e.g. ext4",
                                       min_length=1, max_length=64)}),
        result=S.table(S.obj({
            "device": S.string(), "mountpoint": S.string(), "fstype": S.string(), "options": S.string(),
            "read_only": S.boolean(),
        }, required=["device", "mountpoint", "fstype"]), "mounts"),
        capability="dev.read",
        risk=Risk.READ,
        view=View("table", "mounts", ("device", "mountpoint", "fstype", "options")),
        examples=[
            ("show mounted file systems", {}),
            ("where is the usb drive mounted", {}),
            ("list the ext4 mounts", {"fstype": "ext4"}),
            ("which file systems are mounted read-only", {}),
        ],
    )(dev_mounts)
