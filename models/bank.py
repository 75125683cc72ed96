"""Hand-written examples beyond the per-call ones: multi-step plans, follow-ups, refusals.

A shot whose calls or arguments do not validate against the live registry is
dropped by ``build_bank``, so this bank never proposes a stale shape.
"""

from __future__ import annotations

from models.examples import Bank, Shot, registry_shots
from models.validation import step_is_valid
from syscalls.registry import Registry

BANK: tuple[Shot, ...] = (
    # multi-step: find then act on every row
    Shot("find the .tmp files under build and delete them",
         (("fs.find", {"path": "build", "name": "*.tmp"}), ("fs.delete", {"path": "$0.path"}))),
    Shot("remove all log files older than 30 days in /srv/logs",
         (("fs.find", {"path": "/srv/logs", "name": "*.log", "mtime_min_days": 30}),
          ("fs.delete", {"path": "$0.path"}))),
    Shot("delete every empty directory below projects",
         (("fs.find", {"path": "projects", "type": "dir", "empty": True}),
          ("fs.delete", {"path": "$0.path"}))),
    Shot("make all shell scripts in bin executable",
         (("fs.find", {"path": "bin", "name": "*.sh"}), ("fs.chmod", {"path": "$0.path", "mode": "u+x"}))),
    Shot("stop whatever is listening on port 5432",
         (("proc.port", {"port": 5432}), ("proc.signal", {"pid": "$0.pid", "signal": "TERM"}))),
    Shot("kill the process using port 3000",
         (("proc.port", {"port": 3000}), ("proc.signal", {"pid": "$0.pid", "signal": "TERM"}))),
    Shot("terminate all processes named sleep",
         (("proc.list", {"name": "sleep"}), ("proc.signal", {"pid": "$0.pid", "signal": "TERM"}))),
    Shot("count the lines of every python file in src",
         (("fs.find", {"path": "src", "name": "*.py"}), ("fs.wc", {"path": "$0.path"}))),
    # "free up space": the biggest files are a find sorted by size
    Shot("show the 10 biggest files under ~/Downloads",
         (("fs.find", {"path": "~/Downloads", "type": "file", "sort": "size", "limit": 10}),)),
    Shot("what are the largest files in this folder",
         (("fs.find", {"path": ".", "type": "file", "sort": "size", "limit": 10}),)),
    Shot("find the 3 largest files in projects",
         (("fs.find", {"path": "projects", "type": "file", "sort": "size", "limit": 3}),)),
    Shot("which files take the most space in videos",
         (("fs.find", {"path": "videos", "type": "file", "sort": "size", "limit": 10}),)),
    Shot("what is the hostname of this computer", (("sys.info", {}),)),
    Shot("what is this machine called", (("sys.info", {}),)),
    # single calls in the words people use for them (names of the shell tools, common phrasings)
    Shot("cat config.yaml", (("fs.read", {"path": "config.yaml"}),)),
    Shot("read the file todo.txt", (("fs.read", {"path": "todo.txt"}),)),
    Shot("display setup.cfg", (("fs.read", {"path": "setup.cfg"}),)),
    Shot("grep for error in app.log", (("fs.grep", {"pattern": "error", "path": "app.log"}),)),
    Shot("search for the word password in settings", (("fs.grep", {"pattern": "password", "path": "settings",
                                                                     "recursive": True}),)),
    Shot("which files contain foo", (("fs.grep", {"pattern": "foo", "path": ".", "recursive": True,
                                                  "files_with_matches": True}),)),
    Shot("lines containing timeout in server.log", (("fs.grep", {"pattern": "timeout", "path": "server.log"}),)),
    Shot("md5 of image.iso", (("fs.checksum", {"path": "image.iso", "algorithm": "md5"}),)),
    Shot("sha1 hash of firmware.bin", (("fs.checksum", {"path": "firmware.bin", "algorithm": "sha1"}),)),
    Shot("checksum of backup.tar", (("fs.checksum", {"path": "backup.tar"}),)),
    Shot("how much space does the build folder use", (("fs.du", {"path": "build"}),)),
    Shot("disk usage of projects", (("fs.du", {"path": "projects"}),)),
    Shot("size of the node_modules directory", (("fs.du", {"path": "node_modules"}),)),
    Shot("files modified in the last 3 days", (("fs.find", {"path": ".", "mtime_max_days": 3, "type": "file"}),)),
    Shot("find jpg images in photos", (("fs.find", {"path": "photos", "name": "*.jpg", "type": "file"}),)),
    Shot("ls", (("fs.list", {"path": "."}),)),
    Shot("what files are in the downloads folder", (("fs.list", {"path": "~/Downloads"}),)),
    Shot("show the contents of this directory", (("fs.list", {"path": "."}),)),
    Shot("file info for a.out", (("fs.stat", {"path": "a.out"}),)),
    Shot("show details of report.pdf", (("fs.stat", {"path": "report.pdf"}),)),
    Shot("resolve the symlink latest", (("fs.realpath", {"path": "latest"}),)),
    Shot("full path of notes.txt", (("fs.realpath", {"path": "notes.txt"}),)),
    Shot("create a symlink called current pointing to build", (("fs.symlink", {"path": "current",
                                                                               "target": "build"}),)),
    Shot("what is mounted", (("dev.mounts", {}),)),
    Shot("show disks and partitions", (("dev.block", {}),)),
    Shot("cpu usage", (("sys.cpu", {}),)),
    Shot("free space on my disks", (("sys.disks", {}),)),
    Shot("what processes are running", (("proc.list", {}),)),
    Shot("show the 3 processes using the most cpu", (("proc.list", {"sort": "cpu", "limit": 3}),)),
    Shot("details about pid 1234", (("proc.info", {"pid": 1234}),)),
    Shot("make all python scripts in tools executable",
         (("fs.find", {"path": "tools", "name": "*.py"}), ("fs.chmod", {"path": "$0.path", "mode": "+x"}))),
    # follow-ups on the previous result
    Shot("now delete them", (("fs.delete", {"path": "$prev.path"}),), previous="fs.find"),
    Shot("remove those files", (("fs.delete", {"path": "$prev.path"}),), previous="fs.find"),
    Shot("kill it", (("proc.signal", {"pid": "$prev.pid", "signal": "TERM"}),), previous="proc.port"),
    Shot("stop those processes", (("proc.signal", {"pid": "$prev.pid", "signal": "TERM"}),),
         previous="proc.list"),
    Shot("show me the first one", (("fs.read", {"path": "$prev.path"}),), previous="fs.find"),
    Shot("how big are they", (("fs.stat", {"path": "$prev.path"}),), previous="fs.find"),
    # refusals: nothing in the call set can do these
    Shot("reboot the machine", (("answer", {"text": "Rebooting is not supported.", "supported": False}),)),
    Shot("install the latest version of nginx",
         (("answer", {"text": "Installing packages is not supported.", "supported": False}),)),
    Shot("change the group of report.txt to staff",
         (("answer", {"text": "Changing file groups is not supported.", "supported": False}),)),
    Shot("format the usb disk", (("answer", {"text": "Formatting disks is not supported.", "supported": False}),)),
    Shot("shut down the computer", (("answer", {"text": "Shutting down is not supported.", "supported": False}),)),
    Shot("create a new user account for sam",
         (("answer", {"text": "Managing user accounts is not supported.", "supported": False}),)),
    Shot("configure eth0 with address 10.0.0.2",
         (("answer", {"text": "Configuring network interfaces is not supported.", "supported": False}),)),
)


def build_bank(registry: Registry, *, extra: bool = True) -> Bank:
    """Registry examples plus the hand-written bank, keeping only shots that validate."""
    shots = registry_shots(registry)
    if extra:
        for shot in BANK:
            if all(step_is_valid(call, args, registry) for call, args in shot.steps):
                shots.append(shot)
    return Bank(shots)
